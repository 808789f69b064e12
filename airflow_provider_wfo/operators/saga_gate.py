"""``WfoSagaGateOperator`` (``saga_decision``): commit, or choose which compensations run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.bases.branch import BranchMixIn

from airflow_provider_wfo.factory.saga_plan import GateDecision, SagaPlan, decide
from airflow_provider_wfo.operators.outcome import (
    OUTCOME_KEY,
    RESULT_TASK_ID,
    compensation_task_id,
)


def run_task_states(context: Mapping[str, Any]) -> dict[str, str | None]:
    """task_id -> state for every task instance of the current run (one call to the API)."""
    ti = context["ti"]
    by_run = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    states = by_run.get(ti.run_id, {}) or {}
    return {str(k): (str(v) if v is not None else None) for k, v in states.items()}


def failure_error(ti: Any, step_id: str | None) -> str | None:
    if step_id is None:
        return None
    recorded = ti.xcom_pull(task_ids=step_id, key=OUTCOME_KEY)
    if isinstance(recorded, Mapping) and recorded.get("error"):
        return str(recorded["error"])
    return f"step {step_id!r} failed"


class WfoSagaGateOperator(BaseOperator, BranchMixIn):
    """Reads the final states of all forward tasks and follows ``workflow_result`` plus, when the saga
    is failing and rollback is on, the compensations of the completed steps that declare a rollback.

    Every compensation is a direct downstream of this task, so one branch decision skips all the
    others without launching them.
    """

    template_fields: Sequence[str] = ()
    inherits_from_skipmixin = True
    ui_color = "#fff3cd"

    def __init__(self, *, plan: SagaPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wfo_plan = plan

    def decide(self, context: Mapping[str, Any]) -> tuple[GateDecision, str | None]:
        states = run_task_states(context)
        decision = decide(self.wfo_plan, states)
        return decision, failure_error(context["ti"], decision.failed_step)

    def execute(self, context: Any) -> dict[str, object]:
        decision, error = self.decide(context)
        follow: list[str] = [compensation_task_id(s) for s in decision.compensate]
        follow.append(RESULT_TASK_ID)
        if decision.failing:
            self.log.warning(
                "saga failing at %s (%s); compensating: %s",
                decision.failed_step,
                error,
                ", ".join(decision.compensate) or "nothing",
            )
        payload = decision.to_xcom(error)
        # skip_all_except ends the task by raising DownstreamTasksSkipped when it skips anything,
        # so the decision is pushed first rather than returned.
        context["ti"].xcom_push(key="return_value", value=payload)
        branches: Iterable[str] = follow
        self.do_branch(context, branches)
        return payload
