"""``WfoCompensationOperator`` (``compensate.<step id>``): undo one completed step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.action_call import ActionCall, call_action
from airflow_provider_wfo.operators.step import retry_policy
from airflow_provider_wfo.saga.names import ERROR_NAME, FAILED_STEP_NAME, GATE_TASK_ID, RETURN_KEY
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan


def compensation_task_kwargs(step: WorkflowStep) -> dict[str, Any]:
    """The Airflow task arguments of a step's compensation (given to ``partial()`` when mapped)."""
    rollback = step.rollback
    if rollback is None:
        raise ValueError(f"step {step.id!r} has no rollback")
    kwargs: dict[str, Any] = {
        "retries": rollback.retry_count,
        "retry_delay": timedelta(milliseconds=rollback.retry_delay),
        "retry_policy": retry_policy(),
        "doc_md": f"Undo **{step.display_name}**: `{rollback.target}.{rollback.action}`",
    }
    if rollback.timeout is not None:
        kwargs["execution_timeout"] = timedelta(milliseconds=rollback.timeout)
    return kwargs


class WfoCompensationOperator(BaseOperator):
    """Runs ``step.rollback`` when the gate chose it. Trigger rule all_done: a failed or skipped
    compensation never stops the others. Scope: run conf, the forward results it references,
    ``$error`` (the failed step's error text) and ``$failedStep`` (its id)."""

    template_fields: Sequence[str] = ()
    ui_color = "#fde2e1"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        for key, value in compensation_task_kwargs(step).items():
            kwargs.setdefault(key, value)
        super().__init__(**kwargs)
        self.wfo_step = step
        self.wfo_plan = plan

    def _chosen_decision(self, ti: Any) -> GateDecision:
        """The gate's decision, when it asked to compensate this step; otherwise a skip.

        The gate's branch skips unchosen compensations; this guards the case where the gate
        itself crashed (all_done would otherwise let every compensation run)."""
        step_id = self.wfo_step.id
        decision = GateDecision.from_xcom(ti.xcom_pull(task_ids=GATE_TASK_ID, key=RETURN_KEY))
        if decision is None or step_id not in decision.compensate:
            raise AirflowSkipException(f"saga_decision did not ask to compensate {step_id!r}")
        return decision

    def _rollback_call(
        self,
        decision: GateDecision,
        label: str,
        extra_scope: dict[str, Any] | None = None,
        item_index: int | None = None,
    ) -> ActionCall:
        """The rollback's action call: ``$error`` and ``$failedStep`` from the decision, plus extras."""
        told = {ERROR_NAME: decision.error, FAILED_STEP_NAME: decision.failed_step}
        return ActionCall.of(
            self.wfo_step,
            label,
            rollback=True,
            extra_scope={**told, **(extra_scope or {})},
            item_index=item_index,
        )

    def execute(self, context: Any) -> dict[str, Any]:
        decision = self._chosen_decision(context["ti"])
        call = self._rollback_call(decision, f"rollback of {self.wfo_step.id!r}")
        return call_action(self, context, call, self.wfo_plan)
