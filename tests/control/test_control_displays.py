"""What the displays say about control steps (``saga/notes.py``, one wording for all): ``wfo run``'s
progress and summary, ``wfo trace``, the workflow view and ``wfo graph`` show condition-skipped steps
(the reason), mapped items (n of m), waits (until when) and approval decisions (who, when)."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.factory.plan import plan_for
from airflow_provider_wfo.local.answers import Answer, respondent
from airflow_provider_wfo.local.progress import summarize
from airflow_provider_wfo.results import StepStatus
from airflow_provider_wfo.saga.names import OUTCOME_KEY, WAITING_KEY
from airflow_provider_wfo.saga.notes import answer_note, items_note

DEFN: dict[str, Any] = {
    "id": "ctl_displays",
    "name": "Displays",
    "steps": [
        {"id": "check", "target": "test", "action": "do", "params": {"level": "$level"}},
        {"id": "page", "target": "test", "action": "do", "when": {"==": ["$check.echo.level", "critical"]}},
        {"id": "pause", "target": "wait", "action": "delay", "params": {"duration": 10}},
        {
            "id": "approve",
            "target": "approval",
            "action": "request",
            "params": {"subject": "Go on?", "assignees": ["alice"], "timeout": 600000},
        },
        {
            "id": "each",
            "target": "test",
            "action": "do",
            "forEach": "$people",
            "maxConcurrency": 2,
            "params": {"who": "$item"},
        },
    ],
}


def test_notes_wording() -> None:
    assert (
        items_note([StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.PENDING]) == "2 of 3 items (1 failed)"
    )
    at = "2026-12-01T10:00:00+00:00"
    assert answer_note({"approved": True, "by": "alice", "at": at, "comment": None}) == (
        "approved by alice at 2026-12-01T10:00:00+00:00"
    )
    assert answer_note({"approved": False, "by": "bob", "at": at, "comment": "too much"}) == (
        "rejected by bob at 2026-12-01T10:00:00+00:00: too much"
    )
    assert answer_note({"approved": False, "by": "timeout", "at": at, "comment": None}).startswith(
        "rejected by the timeout"
    )


def test_progress_says_what_a_step_waits_for_and_until_when() -> None:
    plan = plan_for(WorkflowDefinition.model_validate(DEFN))
    until = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc).isoformat()
    states = {"check": "success", "page": "skipped", "pause": "success", "approve": "awaiting_input"}
    xcoms = {
        ("page", OUTCOME_KEY): {"status": "skipped", "reason": "condition false"},
        ("approve", WAITING_KEY): {
            "kind": "approval",
            "since": until,
            "until": until,
            "detail": {"subject": "Go on?", "assignees": ["alice"], "onTimeout": "reject"},
        },
    }
    snapshot = summarize(plan, states, xcoms)
    assert snapshot.notes["page"] == "condition false"
    assert (
        snapshot.notes["approve"]
        == "waiting for approval from alice until 2026-12-01T12:00:00+00:00 (then reject)"
    )
    mapped = summarize(
        plan,
        {
            **states,
            "approve": "success",
            "foreach.each": "success",
            "each_0": "success",
            "each_1": "running",
            "each_2": None,
        },
    )
    assert mapped.notes["each"] == "1 of 3 items"


@pytest.mark.slow
def test_summary_trace_and_view_after_a_run(dags_folder: Path, wfo_calls: Any) -> None:
    from airflow_provider_wfo.events.trace import build_trace
    from airflow_provider_wfo.local.runner import run_workflow
    from airflow_provider_wfo.local.summary import render_summary
    from airflow_provider_wfo.ui.render import run_page

    outcome = run_workflow(
        DEFN, {"level": "low", "people": ["a", "b", "c"]}, answers={"approve": Answer(True, "fine")}
    )
    assert outcome.result.success, outcome.result.error
    who = respondent()["name"]

    buffer = io.StringIO()
    render_summary(Console(file=buffer, width=200), outcome)
    text = buffer.getvalue()
    assert "condition false" in text
    assert f"approved by {who} at " in text and ": fine" in text
    assert "waited until " in text
    assert "3 of 3 items" in text

    trace = build_trace(outcome.dag_id, outcome.run_id)
    notes = {s.step_id: s.note for s in trace.steps}
    assert notes["page"] == "condition false"
    assert notes["approve"] is not None and notes["approve"].startswith(f"approved by {who} at ")
    assert (notes["pause"] or "").startswith("waited until ")
    assert notes["each"] == "3 of 3 items"
    page = run_page(trace)
    assert f"approved by {who} at " in page and "condition false" in page


def test_graph_says_what_each_step_may_do(tmp_path: Path) -> None:
    from airflow_provider_wfo.local.graph import definition_to_mermaid

    text = definition_to_mermaid(WorkflowDefinition.model_validate(DEFN))
    assert "(else SKIPPED: condition false)" in text
    assert "once per item of $people, 2 at a time" in text
    assert "waits on the triggerer" in text
    assert "asks for approval of alice" in text
