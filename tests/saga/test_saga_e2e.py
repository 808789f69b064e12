"""The saga through real Airflow: each test is one ``dag.test`` run of a generated DAG.

Actions are the recording ``test`` actions (tests/wfo_test_actions.py): ``do`` forward, ``undo`` as
rollback, with ``fail`` / ``sleep`` knobs in their params.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow


def step(
    step_id: str, *, rollback: bool = True, undo: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    params = extra.pop("params", {})
    spec: dict[str, Any] = {
        "id": step_id,
        "name": f"Step {step_id}",
        "action": "do",
        "target": "test",
        "params": params,
        "retryDelay": 0,
        **extra,
    }
    if rollback:
        spec["rollback"] = {
            "action": "undo",
            "target": "test",
            "retryCount": 0,
            "retryDelay": 0,
            "params": {"of": f"${{{step_id}.id}}", **(undo or {})},
        }
    return spec


def xcom(dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def forward_calls(calls: list[dict[str, Any]]) -> list[str]:
    return [c["step"] for c in calls if not c["rollback"]]


def undo_calls(calls: list[dict[str, Any]]) -> list[str]:
    return [c["step"] for c in calls if c["rollback"]]


def statuses(result: Any) -> dict[str, StepStatus]:
    return {s.step_id: s.status for s in result.steps}


def test_all_succeed_with_context_passing_and_a_retry(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "saga-all-succeed",
        "name": "All succeed",
        "steps": [
            step(
                "a",
                params={
                    "order": "$orderId",
                    "count": "$count",
                    "items": "$items",
                    "label": "Order-$orderId.pdf",
                    "literal": "$$5",
                    "jinja": "{{ 7*7 }}",
                    "day": "$run.date",
                    "run_id": "$run.runId",
                    "dag": "${run.dagId}",
                },
            ),
            step(
                "b",
                params={
                    "from_a": "$a.echo.count",
                    "whole": "$a.echo",
                    "text": "got ${a.value}!",
                    "fail": "once",
                },
                retryCount=2,
            ),
            step("c", rollback=False, params={"first_item": "$a.echo.items.0", "password": "$secret"}),
        ],
    }
    result = run_workflow(
        defn, {"orderId": "ORD-1", "count": 3, "items": [{"sku": "x"}], "secret": "hunter2-very-secret"}
    )

    assert result.status == WorkflowStatus.COMPLETED and result.success
    assert run_workflow.last.dag_run_state == "success"
    assert statuses(result) == {
        "a": StepStatus.COMPLETED,
        "b": StepStatus.COMPLETED,
        "c": StepStatus.COMPLETED,
    }
    assert result.progress.percent_complete == 100
    assert result.progress.completed_steps == 3 and result.progress.total_steps == 3
    assert result.rollback_performed is False and result.error is None

    a = result.step("a").result
    assert a is not None and a.success
    echo = dict(a.data["echo"])
    assert echo.pop("day") == result.start_time.date().isoformat()  # type: ignore[union-attr]
    assert echo.pop("run_id") == result.run_id
    assert echo.pop("dag") == "saga-all-succeed"
    assert echo == {
        "order": "ORD-1",
        "count": 3,
        "items": [{"sku": "x"}],
        "label": "Order-ORD-1.pdf",
        "literal": "$5",
        "jinja": "{{ 7*7 }}",
    }
    b = result.step("b")
    assert b.result is not None
    assert b.result.data["echo"]["from_a"] == 3  # a single reference keeps the JSON type
    assert b.result.data["echo"]["whole"]["items"] == [{"sku": "x"}]
    assert b.result.data["echo"]["text"] == "got a-do!"
    assert result.step("c").result.data["echo"]["first_item"] == {"sku": "x"}  # type: ignore[union-attr]

    # b failed once and succeeded on the second attempt with the same idempotency key
    assert b.attempts == 2
    calls = wfo_calls.read()
    b_calls = [c for c in calls if c["step"] == "b"]
    assert [c["attempt"] for c in b_calls] == [1, 2]
    assert b_calls[0]["key"] == b_calls[1]["key"] == f"saga-all-succeed:{result.run_id}:b"
    assert forward_calls(calls) == ["a", "b", "b", "c"]
    assert undo_calls(calls) == []
    assert run_workflow.last.task_states["compensate.a"] == "skipped"

    # the recorded outcome: attempt data, resolved params with secrets redacted
    outcome_c = xcom("saga-all-succeed", result.run_id, "c", "wfo_outcome")
    assert outcome_c["status"] == "success" and outcome_c["attempt"] == 1
    assert outcome_c["params"]["password"] == "***"
    assert outcome_c["params"]["first_item"] == {"sku": "x"}
    assert set(outcome_c) >= {"startTime", "endTime", "duration", "error", "timedOut", "willRetry"}
    gate = xcom("saga-all-succeed", result.run_id, "saga_decision", "return_value")
    assert gate["failing"] is False and gate["compensate"] == []
    stored = xcom("saga-all-succeed", result.run_id, "workflow_result", "return_value")
    assert stored["workflowId"] == "saga-all-succeed" and stored["status"] == "COMPLETED"
    assert stored["steps"][0]["result"] == {"success": True, "data": a.data}


def test_required_step_fails_after_retries_rolls_back_in_reverse_order(
    run_workflow: Any, wfo_calls: Any
) -> None:
    defn = {
        "id": "saga-middle-fails",
        "name": "Middle fails",
        "steps": [
            step("a", undo={"why": "$error", "where": "$failedStep"}),
            step("a2"),
            step("n", rollback=False),
            step("b", params={"fail": "always"}, retryCount=1),
            step("c"),
        ],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.ROLLED_BACK and not result.success
    assert run_workflow.last.dag_run_state == "failed"
    assert statuses(result) == {
        "a": StepStatus.ROLLED_BACK,
        "a2": StepStatus.ROLLED_BACK,
        "n": StepStatus.COMPLETED,
        "b": StepStatus.FAILED,
        "c": StepStatus.SKIPPED,
    }
    assert result.failed_step == "b"
    assert result.rollback_performed
    assert "planned failure" in (result.error or "")
    assert result.step("b").attempts == 2
    assert "planned failure" in (result.step("b").error or "")
    assert result.step("a").rolled_back and result.step("a").rollback.status == StepStatus.ROLLED_BACK  # type: ignore[union-attr]
    rollback_a = result.step("a").rollback
    assert rollback_a is not None and rollback_a.result is not None
    assert rollback_a.result["value"] == "a-undo" and rollback_a.attempts == 1
    calls = wfo_calls.read()
    assert forward_calls(calls) == ["a", "a2", "n", "b", "b"]
    assert undo_calls(calls) == ["a2", "a"]  # only completed steps, reverse order
    undo_a = next(c for c in calls if c["rollback"] and c["step"] == "a")
    assert undo_a["params"]["of"] == "id-a"
    assert undo_a["params"]["where"] == "b"
    assert "planned failure" in undo_a["params"]["why"]
    assert undo_a["key"].endswith(":a:rollback")
    assert result.progress.failed_steps == 1 and result.progress.completed_steps == 3


def test_failed_compensation_does_not_stop_the_others(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "saga-compensation-fails",
        "name": "Compensation fails",
        "steps": [
            step("a"),
            step("b", undo={"fail": "always"}),
            step("c", params={"fail": "fatal"}, retryCount=3),
        ],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.ROLLBACK_FAILED
    assert run_workflow.last.dag_run_state == "failed"
    assert statuses(result) == {
        "a": StepStatus.ROLLED_BACK,
        "b": StepStatus.ROLLBACK_FAILED,
        "c": StepStatus.FAILED,
    }
    assert result.step("c").attempts == 1  # non-retryable: no retry although retryCount is 3
    rollback_b = result.step("b").rollback
    assert rollback_b is not None and "planned failure" in (rollback_b.error or "")
    assert undo_calls(wfo_calls.read()) == ["b", "a"]


def test_optional_failure_continues_and_skips_dependents(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "saga-optional",
        "name": "Optional fails",
        "steps": [
            step("a"),
            step("opt", rollback=False, optional=True, params={"fail": "always"}),
            step("after-opt", dependsOn=["opt"]),
            step("other", dependsOn=["a"]),
        ],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.COMPLETED and result.success
    assert run_workflow.last.dag_run_state == "success"
    assert run_workflow.last.task_states["opt"] == "failed"  # visible in the grid
    assert statuses(result) == {
        "a": StepStatus.COMPLETED,
        "opt": StepStatus.FAILED_OPTIONAL,
        "after-opt": StepStatus.SKIPPED,
        "other": StepStatus.COMPLETED,
    }
    assert result.step("opt").optional and "planned failure" in (result.step("opt").error or "")
    assert undo_calls(wfo_calls.read()) == []


def test_optional_failure_stops_when_continue_on_optional_failure_is_false(
    run_workflow: Any, wfo_calls: Any
) -> None:
    defn = {
        "id": "saga-optional-stops",
        "name": "Optional stops",
        "continueOnOptionalFailure": False,
        "steps": [
            step("a"),
            step("opt", rollback=False, optional=True, params={"fail": "always"}, dependsOn=["a"]),
            step("m", dependsOn=["a"]),
            step("x", dependsOn=["m"]),
        ],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.FAILED
    assert run_workflow.last.dag_run_state == "failed"
    assert result.failed_step == "opt"
    assert result.step("opt").status == StepStatus.FAILED_OPTIONAL
    assert result.step("x").status == StepStatus.SKIPPED  # never started
    assert "x" not in forward_calls(wfo_calls.read())
    assert undo_calls(wfo_calls.read()) == []  # an optional failure never compensates
    assert not result.rollback_performed


def test_rollback_on_failure_false_compensates_nothing(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "saga-no-rollback",
        "name": "No rollback",
        "rollbackOnFailure": False,
        "steps": [step("a"), step("b", params={"fail": "always"})],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.FAILED
    assert run_workflow.last.dag_run_state == "failed"
    assert statuses(result) == {"a": StepStatus.COMPLETED, "b": StepStatus.FAILED}
    assert undo_calls(wfo_calls.read()) == []
    assert run_workflow.last.task_states["compensate.a"] == "skipped"


def test_parallel_branch_stops_and_its_finished_steps_are_compensated(
    run_workflow: Any, wfo_calls: Any
) -> None:
    defn = {
        "id": "saga-parallel",
        "name": "Parallel",
        "steps": [
            step("root"),
            # one retry: its first failure is not final, so p1 (ready at the same time) always runs
            step("f1", params={"fail": "always"}, dependsOn=["root"], retryCount=1),
            step("p1", dependsOn=["root"]),
            step("p2", dependsOn=["p1"]),
            step("p3", dependsOn=["p2"]),
        ],
    }
    result = run_workflow(defn)

    calls = wfo_calls.read()
    started = forward_calls(calls)
    # dag.test runs one task at a time, in any order among the ready ones: p2 is ready together with
    # f1's second attempt and may run first; p3 can only become ready after f1 failed for good.
    assert "p1" in started and "p3" not in started
    completed = ["root", "p1"] + (["p2"] if "p2" in started else [])
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert undo_calls(calls) == list(reversed(completed))  # the other branch's finished steps too
    assert result.step("p3").status == StepStatus.SKIPPED
    assert run_workflow.last.task_states["p3"] in ("skipped", "upstream_failed")
    assert result.step("f1").status == StepStatus.FAILED and result.step("f1").attempts == 2


def test_step_timeout_is_a_failure(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "saga-timeout",
        "name": "Timeout",
        "steps": [step("a"), step("slow", rollback=False, params={"sleep": 5}, timeout=1000)],
    }
    result = run_workflow(defn)

    assert result.status == WorkflowStatus.ROLLED_BACK
    slow = result.step("slow")
    assert slow.status == StepStatus.FAILED
    assert "timed out after 1000 ms" in (slow.error or "")
    assert undo_calls(wfo_calls.read()) == ["a"]
