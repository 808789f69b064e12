"""Event sequences, trace and robustness of a real generated DAG run under ``dag.test``."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from wfo_events_helpers import CONF, SECRET, Recorder, saga_defn

COMMIT = [
    ("workflow:started", None, None),
    ("step:started", "a", 1),
    ("step:completed", "a", 1),
    ("workflow:progress", "a", None),
    ("step:started", "b", 1),
    ("step:completed", "b", 1),
    ("workflow:progress", "b", None),
    ("step:started", "c", 1),
    ("step:completed", "c", 1),
    ("workflow:progress", "c", None),
    ("workflow:completed", None, None),
]

ROLLBACK = [
    ("workflow:started", None, None),
    ("step:started", "a", 1),
    ("step:completed", "a", 1),
    ("workflow:progress", "a", None),
    ("step:started", "b", 1),
    ("step:retrying", "b", 1),
    ("step:started", "b", 2),
    ("step:failed", "b", 2),
    ("workflow:progress", "b", None),
    ("rollback:started", None, None),
    ("step:rolled_back", "compensate.a", 1),
    ("rollback:completed", None, None),
    ("workflow:failed", None, None),
]


def _common(events: list[Any], dag_id: str, run_id: str) -> None:
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    for e in events:
        assert e.dag_id == dag_id and e.workflow_id == dag_id and e.run_id == run_id
        assert e.workflow_name == "Events saga"


def _trace(run_workflow: Any) -> Any:
    from airflow_provider_wfo.events.trace import build_trace

    return build_trace(run_workflow.last.dag_id, run_workflow.last.run_id)


@pytest.mark.slow
def test_committing_run_event_sequence(run_workflow: Any, wfo_calls: Any, recorder: Recorder) -> None:
    result = run_workflow(saga_defn("ev_commit", fail_b=False), CONF)
    assert result.status.value == "COMPLETED"
    assert recorder.keys() == COMMIT
    ev = recorder.events
    _common(ev, "ev_commit", run_workflow.last.run_id)

    started = ev[0]
    assert started.progress.total_steps == 3 and started.progress.percent_complete == 0
    assert ev[1].step_name == "Create record" and ev[1].phase.value == "forward"
    done_a = ev[2]
    assert done_a.duration is not None and done_a.duration >= 0 and done_a.error is None
    assert done_a.params == {"order": "O-17", "password": "***"}
    progress = [e.progress for e in ev if e.type.value == "workflow:progress"]
    assert [p.percent_complete for p in progress] == [33, 66, 100]
    assert [p.completed_steps for p in progress] == [1, 2, 3]
    assert [p.current_step_name for p in progress] == ["Create record", "Notify", "Track"]
    assert all(p.status.value == "RUNNING" and p.failed_steps == 0 for p in progress)
    final = ev[-1]
    assert final.status == "COMPLETED" and final.error is None and final.duration >= 0
    assert final.progress.percent_complete == 100

    # The audit trail rebuilt from the metadata DB tells the same story, in the same order.
    trace = _trace(run_workflow)
    assert [(e.type.value, e.task_id, e.attempt) for e in trace.events] == COMMIT
    assert trace.status == "COMPLETED" and trace.state == "success"
    assert [s.step_id for s in trace.steps] == ["a", "b", "c"]
    assert trace.steps[0].params == {"order": "O-17", "password": "***"}
    assert trace.compensations["a"].state in ("skipped", None)
    assert _note("ev_commit", run_workflow.last.run_id) == "wfo: COMPLETED; 3/3 completed"


@pytest.mark.slow
def test_rolled_back_run_event_sequence(
    run_workflow: Any, wfo_calls: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_workflow(saga_defn("ev_rollback", fail_b=True), CONF)
    assert result.status.value == "ROLLED_BACK"
    assert recorder.keys() == ROLLBACK
    ev = recorder.events
    _common(ev, "ev_rollback", run_workflow.last.run_id)
    by_key = {(e.type.value, e.task_id, e.attempt): e for e in ev}

    retry = by_key[("step:retrying", "b", 1)]
    assert retry.error == "ActionError: b: planned failure" and retry.step_name == "Notify"
    failed = by_key[("step:failed", "b", 2)]
    assert failed.error == "ActionError: b: planned failure" and failed.params == {"fail": "always"}
    progress = by_key[("workflow:progress", "b", None)].progress
    assert (progress.completed_steps, progress.failed_steps, progress.percent_complete) == (1, 1, 66)
    rb_started = by_key[("rollback:started", None, None)]
    assert rb_started.step_id == "b" and "planned failure" in rb_started.error
    undone = by_key[("step:rolled_back", "compensate.a", 1)]
    assert undone.step_id == "a" and undone.step_name == "Create record" and undone.phase.value == "rollback"
    assert undone.params == {"id": "id-a"}
    assert ev[-2].status == "ROLLED_BACK" and ev[-1].status == "ROLLED_BACK"
    assert "planned failure" in ev[-1].error

    trace = _trace(run_workflow)
    assert [(e.type.value, e.task_id, e.attempt) for e in trace.events] == ROLLBACK
    assert trace.status == "ROLLED_BACK" and trace.rollback_performed and trace.failed_step == "b"
    b = trace.steps[1]
    assert [a.attempt for a in b.attempts] == [1, 2] and b.state == "failed"
    assert b.attempts[-1].error == "ActionError: b: planned failure"
    # The retried attempt's error survives in task_instance_history (RecordErrorRetryPolicy).
    assert b.attempts[0].error == "ActionError: b: planned failure" and b.attempts[0].state == "failed"
    retried = [e for e in trace.events if e.type.value == "step:retrying"]
    assert retried[0].error == "ActionError: b: planned failure"

    # `wfo trace DAG_ID RUN_ID` prints the same timeline (from the metadata DB).
    from airflow_provider_wfo.cli import main

    assert main(["trace", "ev_rollback", run_workflow.last.run_id]) == 0
    out = capsys.readouterr().out
    for text in ("rollback:started", "step:rolled_back", "step:retrying", "workflow:failed"):
        assert text in out, text
    assert main(["trace", "ev_rollback", "no-such-run"]) == 1
    assert trace.compensations["a"].state == "success"
    assert trace.steps[2].state in ("upstream_failed", "skipped")
    assert [s.status for s in trace.steps] == ["ROLLED_BACK", "FAILED", "SKIPPED"]
    assert trace.compensations["a"].status == "ROLLED_BACK"
    # The outcome is the DagRun's note, where the Airflow UI shows it.
    assert _note("ev_rollback", run_workflow.last.run_id) == (
        "wfo: ROLLED_BACK - step 'b' failed: ActionError: b: planned failure; "
        "1/3 completed, 1 failed, 1 rolled back"
    )


def _note(dag_id: str, run_id: str) -> str | None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        return run.note if run is not None else None


@pytest.mark.slow
def test_trace_and_events_hold_no_secret(
    run_workflow: Any, wfo_calls: Any, recorder: Recorder, tmp_path: Any, monkeypatch: Any
) -> None:
    sink = tmp_path / "events.jsonl"
    monkeypatch.setenv("AIRFLOW__WFO__EVENT_SINKS", f"log,jsonl:{sink}")
    run_workflow(saga_defn("ev_secret", fail_b=True), CONF)
    # The action itself did receive the secret: redaction is about what is recorded, not what runs.
    assert any(c["params"].get("password") == SECRET for c in wfo_calls.read())

    from airflow_provider_wfo.cli.trace import render
    from airflow_provider_wfo.ui.render import run_page

    trace = _trace(run_workflow)
    assert SECRET not in json.dumps(trace.to_json_dict())
    assert SECRET not in run_page(trace)
    assert trace.conf["apiToken"] == "***"
    assert SECRET not in json.dumps([e.to_json_dict() for e in recorder.events])
    lines = sink.read_text().splitlines()
    assert len(lines) == len(ROLLBACK) and SECRET not in sink.read_text()
    assert [json.loads(line)["type"] for line in lines] == [k[0] for k in ROLLBACK]
    from rich.console import Console

    console = Console(record=True, width=200)
    monkeypatch.setattr("airflow_provider_wfo.cli.trace.console", lambda: console)
    render(trace, show_params=True)
    text = console.export_text()
    assert "rollback:started" in text and SECRET not in text


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_raising_handler_and_dead_webhook_do_not_change_the_outcome(
    run_workflow: Any, wfo_calls: Any, recorder: Recorder, monkeypatch: Any
) -> None:
    from airflow_provider_wfo.events.bus import workflow_events

    calls: list[str] = []

    def boom(event: Any) -> None:
        calls.append(event.type.value)
        raise RuntimeError("handler bug")

    monkeypatch.setenv("AIRFLOW__WFO__EVENT_SINKS", f"webhook:http://127.0.0.1:{_dead_port()}/hook")
    monkeypatch.setenv("AIRFLOW__WFO__EVENT_SINK_FLUSH_TIMEOUT", "0.2")
    workflow_events.on("*", boom)
    try:
        ok = run_workflow(saga_defn("ev_robust_ok", fail_b=False), CONF)
        bad = run_workflow(saga_defn("ev_robust_rb", fail_b=True), CONF)
    finally:
        workflow_events.off("*", boom)
    assert ok.status.value == "COMPLETED" and bad.status.value == "ROLLED_BACK"
    assert len(calls) == len(COMMIT) + len(ROLLBACK)
    # The other handler still got everything, in order.
    assert recorder.keys() == COMMIT + ROLLBACK
