"""``wfo trace DAG_ID RUN_ID``: the audit trail of a run as a timeline (read from the metadata DB)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from airflow_provider_wfo.cli.common import airflow_says_to_stderr, console, error, json_text

_STYLES = {
    "completed": "green",
    "rolled_back": "cyan",
    "failed": "red",
    "retrying": "yellow",
    "skipped": "dim",
    "started": "",
    "progress": "blue",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "trace",
        help="print the audit trail of a run as a timeline",
        description="Print every event of a workflow run (from Airflow's metadata DB: task attempts, "
        "the wfo_outcome XComs, the run), with each step's resolved, redacted params.",
    )
    p.add_argument("dag_id", help="the workflow id (= DAG id)")
    p.add_argument("run_id", help="the Airflow run id")
    p.add_argument("--json", action="store_true", help="print the whole trace as JSON")
    p.add_argument("--params", action="store_true", help="also print each step's resolved params")
    p.set_defaults(handler=_trace)


def _trace(args: argparse.Namespace) -> int:
    from airflow_provider_wfo.local.environment import prepare_environment

    prepare_environment()
    with airflow_says_to_stderr():
        from airflow_provider_wfo.events.trace import TraceNotFound, build_trace

        try:
            trace = build_trace(args.dag_id, args.run_id)
        except TraceNotFound as exc:
            return error(str(exc))
    if args.json:
        console().file.write(json_text(trace.to_json_dict()) + "\n")
        return 0
    render(trace, show_params=args.params)
    return 0


def render(trace: Any, show_params: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(
        Text.assemble(
            (f"{trace.workflow_name}", "bold"),
            f"  dag={trace.dag_id}  run={trace.run_id}  ",
            (f"{trace.status or trace.state}", "bold red" if trace.state == "failed" else "bold green"),
            f"  {trace.duration if trace.duration is not None else '?'} ms",
        )
    )
    start = trace.start_time
    table = Table(show_edge=False, pad_edge=False)
    for column in ("+ms", "event", "step", "attempt", "duration", "detail"):
        table.add_column(
            column,
            justify="right" if column in ("+ms", "attempt", "duration") else "left",
            no_wrap=column != "detail",
            overflow="fold",
        )
    for event in trace.events:
        offset = int((event.timestamp - start).total_seconds() * 1000) if start else 0
        kind = event.type.value.split(":")[1]
        detail = event.error or ""
        if event.progress is not None and event.type.value == "workflow:progress":
            p = event.progress
            detail = (
                f"{p.percent_complete}% ({p.completed_steps} done, {p.failed_steps} failed / {p.total_steps})"
            )
        if show_params and event.params:
            detail = (detail + " " if detail else "") + json.dumps(event.params, sort_keys=True)
        step = event.step_name or ""
        if event.phase is not None and event.phase.value == "rollback":
            step = f"undo {step}"
        table.add_row(
            str(offset),
            Text(event.type.value, style=_STYLES.get(kind, "")),
            step,
            "" if event.attempt is None else str(event.attempt),
            "" if event.duration is None else str(event.duration),
            Text(detail),
        )
    out.print(table)
    for step in trace.steps:
        if step.note:
            out.print(Text.assemble((f"{step.step_name}: ", "bold"), step.note))
