"""``WfoSagaGateOperator`` (``saga_decision``): commit, or choose which compensations run.

Only a workflow with at least one rollback has a gate; without one, ``workflow_result`` decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.bases.branch import BranchMixIn

from airflow_provider_wfo.operators.reads import failed_step_error, run_task_states
from airflow_provider_wfo.saga.names import RESULT_TASK_ID, RETURN_KEY, compensation_task_id
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan, decide


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

    def decide(self, context: Mapping[str, Any]) -> GateDecision:
        ti = context["ti"]
        states = run_task_states(ti)
        decision = decide(self.wfo_plan, states)
        if decision.failing:
            error = failed_step_error(ti, decision.failed_step, self.wfo_plan, states)
            decision = replace(decision, error=error)
        return decision

    def execute(self, context: Any) -> dict[str, object]:
        decision = self.decide(context)
        follow: list[str] = [compensation_task_id(s) for s in decision.compensate]
        follow.append(RESULT_TASK_ID)
        if decision.failing:
            self.log.warning(
                "saga failing at %s (%s); compensating: %s",
                decision.failed_step,
                decision.error,
                ", ".join(decision.compensate) or "nothing",
            )
        payload = decision.to_xcom()
        # skip_all_except ends the task by raising DownstreamTasksSkipped when it skips anything,
        # so the decision is pushed first rather than returned.
        context["ti"].xcom_push(key=RETURN_KEY, value=payload)
        self.do_branch(context, follow)
        return payload
