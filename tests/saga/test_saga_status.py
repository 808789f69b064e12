"""``saga/status.derive``: the one set of rules every reader of a run uses (pure, no Airflow)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.factory.plan import plan_for
from airflow_provider_wfo.results import StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan
from airflow_provider_wfo.saga.records import UNRECORDED_ERROR, Outcome, parse_outcome
from airflow_provider_wfo.saga.status import TaskFacts, derive, recorded_status, step_progress

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def plan(steps: list[dict[str, object]], **flags: object) -> SagaPlan:
    return plan_for(WorkflowDefinition.model_validate({"id": "w", "name": "W", "steps": steps, **flags}))


def step(sid: str, **extra: object) -> dict[str, object]:
    return {"id": sid, "action": "do", "target": "test", **extra}


UNDO = {"action": "undo", "target": "test"}
CHAIN = [step("a", rollback=UNDO), step("b"), step("c")]


def test_rolled_back_run_is_final_and_100_percent() -> None:
    p = plan(CHAIN)
    decision = GateDecision(failing=True, failed_step="b", compensate=("a",), failed_steps=("b",))
    run = derive(
        p,
        {
            "a": TaskFacts(state="success"),
            "b": TaskFacts(state="failed", outcome=Outcome(error="boom", attempt=2, duration=58)),
            "c": TaskFacts(state="upstream_failed"),
            "compensate.a": TaskFacts(state="success"),
        },
        decision,
        final=True,
    )
    assert run.status == WorkflowStatus.ROLLED_BACK
    assert [s.status for s in run.steps] == [StepStatus.ROLLED_BACK, StepStatus.FAILED, StepStatus.SKIPPED]
    progress = run.progress
    assert (progress.completed_steps, progress.failed_steps, progress.percent_complete) == (1, 1, 100)
    assert run.error == "step 'b' failed: boom" and run.rollback_performed
    assert run.by_id["b"].attempts == 2 and run.by_id["b"].duration == 58


def test_live_run_counts_what_finished_and_marks_the_rest() -> None:
    p = plan(CHAIN)
    run = derive(p, {"a": TaskFacts(state="success"), "b": TaskFacts(state="up_for_retry")}, final=False)
    assert run.status == WorkflowStatus.RUNNING
    assert [s.status for s in run.steps] == [StepStatus.COMPLETED, StepStatus.RUNNING, StepStatus.PENDING]
    assert run.progress.percent_complete == 33
    assert derive(p, {}, final=False).status == WorkflowStatus.PENDING


def test_without_a_decision_the_final_view_decides_like_the_gate() -> None:
    p = plan([step("a"), step("b", optional=True)], continueOnOptionalFailure=False)
    run = derive(p, {"a": TaskFacts(state="success"), "b": TaskFacts(state="failed")}, final=True)
    assert run.status == WorkflowStatus.FAILED and run.failed_step == "b"
    assert run.by_id["b"].status == StepStatus.FAILED_OPTIONAL


def test_a_step_killed_before_it_recorded_says_where_to_look() -> None:
    # Airflow failed the task itself (a state mismatch, a lost heartbeat): no outcome was pushed.
    run = derive(plan(CHAIN), {"a": TaskFacts(state="success"), "b": TaskFacts(state="failed")}, final=True)
    assert run.failed_step == "b"
    assert run.error == "step 'b' failed: " + UNRECORDED_ERROR
    assert "task's log" in (run.error or "") and "failed: step" not in (run.error or "")


def test_a_failed_step_is_optional_when_its_outcome_says_so() -> None:
    # The trace has no definition: the outcome record carries the flag.
    p = plan([step("a")])
    raw = {"status": "failed", "attempt": 1, "optional": True, "error": "x"}
    run = derive(p, {"a": TaskFacts(state="failed", outcome=parse_outcome(raw))}, final=False)
    assert run.by_id["a"].status == StepStatus.FAILED_OPTIONAL


def test_span_covers_every_attempt_and_duration_is_the_last() -> None:
    p = plan([step("a")])
    facts = TaskFacts(
        state="failed", tries=2, first_start=T0, last_start=T0 + timedelta(seconds=6),
        last_end=T0 + timedelta(seconds=6, milliseconds=58),
    )
    state = derive(p, {"a": facts}, final=True).by_id["a"]
    assert (state.duration, state.span, state.attempts) == (58, 6058, 2)


def test_step_progress_needs_only_the_plan() -> None:
    chain = plan(CHAIN)
    assert step_progress(chain, "b", "failed", "B").model_dump()["completed_steps"] == 1
    assert step_progress(chain, "c", "success", "C").percent_complete == 100
    fan = plan([step("a"), step("b", dependsOn=[]), step("c", dependsOn=["a", "b"])])
    progress = step_progress(fan, "c", "success", "C")
    assert (progress.completed_steps, progress.current_step_name) == (3, "C")
    assert step_progress(fan, "b", "success", "B").completed_steps == 1


def test_recorded_status_for_run_lists() -> None:
    assert recorded_status("failed", {"status": "ROLLED_BACK"}) == WorkflowStatus.ROLLED_BACK
    assert recorded_status("running", None) == WorkflowStatus.RUNNING
    assert recorded_status("queued", None) == WorkflowStatus.PENDING
    assert recorded_status("failed", {"status": "nonsense"}) == WorkflowStatus.FAILED
    assert recorded_status("success", None) == WorkflowStatus.COMPLETED
