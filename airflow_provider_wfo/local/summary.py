"""A readable summary of a local run, for ``wfo run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from airflow_provider_wfo.results import StepResult, StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.notes import result_note

_STATUS_STYLE = {
    StepStatus.COMPLETED: ("✔", "green"),
    StepStatus.ROLLED_BACK: ("↺", "yellow"),
    StepStatus.ROLLBACK_FAILED: ("✘", "bold red"),
    StepStatus.FAILED: ("✘", "red"),
    StepStatus.FAILED_OPTIONAL: ("!", "yellow"),
    StepStatus.SKIPPED: ("·", "dim"),
    StepStatus.PENDING: ("·", "dim"),
    StepStatus.RUNNING: ("…", "cyan"),
}

_HEADLINE = {
    WorkflowStatus.COMPLETED: ("COMPLETED", "bold green", "every required step succeeded"),
    WorkflowStatus.FAILED: ("FAILED", "bold red", "a step failed; nothing was undone"),
    WorkflowStatus.ROLLED_BACK: (
        "ROLLED BACK",
        "bold yellow",
        "a step failed; everything done before it was undone",
    ),
    WorkflowStatus.ROLLBACK_FAILED: (
        "ROLLBACK FAILED",
        "bold red",
        "a step failed and some undo did not succeed: check the steps marked ✘ by hand",
    ),
}


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


#: Result fields a person looks for first (links and ids), in this order.
_INTERESTING = ("webViewLink", "url", "fileId", "id", "rowId", "rowNumber", "messageId", "channel", "status")


def _short(value: object, width: int = 48) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _detail(step: StepResult) -> str:
    if step.error and step.status in (StepStatus.FAILED, StepStatus.FAILED_OPTIONAL):
        return step.error
    if step.rollback is not None and step.rollback.error:
        return f"undo failed: {step.rollback.error}"
    note = result_note(step)
    if note:
        return note
    if step.result is not None and step.result.data:
        data = step.result.data
        keys = [k for k in _INTERESTING if k in data][:2] or list(data)[:2]
        return ", ".join(f"{key}={_short(data[key])}" for key in keys)
    if step.status == StepStatus.SKIPPED:
        return "not run"
    return ""


def render_summary(console: Console, outcome: Any, log_path: Path | None = None) -> None:
    result = outcome.result
    label, style, meaning = _HEADLINE.get(result.status, (result.status.value, "bold", ""))
    console.print()
    console.print(
        Text.assemble(
            (f"{result.workflow_name}", "bold"),
            "  ",
            (label, style),
            f"  in {_duration(result.duration)}" if result.duration is not None else "",
        )
    )
    console.print(Text(meaning, style="dim"))
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("step")
    table.add_column("status", no_wrap=True)
    table.add_column("tries", justify="right")
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for step in result.steps:
        icon, step_style = _STATUS_STYLE.get(step.status, ("?", ""))
        table.add_row(
            Text(icon, style=step_style),
            Text(step.step_name),
            Text(step.status.value, style=step_style),
            str(step.attempts) if step.attempts else "",
            _duration(step.duration),
            Text(_detail(step)),
        )
    console.print(table)
    progress = result.progress
    skipped = sum(1 for s in result.steps if s.status.value == "SKIPPED")
    # The run is over (percentComplete is 100): the counts say how it went; "time" is the last attempt's.
    console.print(
        Text(
            f"{progress.completed_steps}/{progress.total_steps} steps completed, "
            f"{progress.failed_steps} failed" + (f", {skipped} skipped" if skipped else ""),
            style="dim",
        )
    )
    if result.error:
        console.print(Text.assemble(("error: ", "bold red"), result.error))
    if result.rollback_performed:
        undone = [s.step_name for s in result.steps if s.rolled_back]
        console.print(Text(f"rolled back: {', '.join(undone) or 'nothing'}", style="yellow"))
    console.print(
        Text(f"dag_id {outcome.dag_id}, run {outcome.run_id} (DagRun {outcome.dag_run_state})", style="dim")
    )
    if log_path is not None:
        console.print(Text(f"Airflow log: {log_path}", style="dim"))
