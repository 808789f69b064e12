"""The seed's ``WorkflowResult`` from a derived run (``saga/status.derive``): one place that turns
step states, items and compensations into the result the ``workflow_result`` task pushes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.results import (
    ActionResult,
    ItemResult,
    RollbackResult,
    StepResult,
    StepStatus,
    WorkflowResult,
    WorkflowStatus,
)
from airflow_provider_wfo.saga.facts import FAILED_STATUSES, RAN, ItemState, RunState, StepState
from airflow_provider_wfo.saga.names import SUCCESS
from airflow_provider_wfo.saga.plan import SagaPlan


def workflow_result(
    plan: SagaPlan,
    run: RunState,
    *,
    workflow_name: str,
    step_names: Mapping[str, str],
    data: Mapping[str, Any],
    compensation_data: Mapping[str, Any] | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> WorkflowResult:
    """The seed's ``WorkflowResult`` of a derived run; ``data`` holds the completed steps' results."""
    return WorkflowResult(
        workflow_id=plan.workflow_id,
        workflow_name=workflow_name,
        status=run.status,
        start_time=run.start,
        end_time=run.end,
        duration=run.duration,
        steps=[
            step_result(s, step_names.get(s.step_id, s.step_id), data.get(s.step_id), compensation_data)
            for s in run.steps
        ],
        progress=run.progress,
        success=run.status == WorkflowStatus.COMPLETED,
        error=run.error,
        rollback_performed=run.rollback_performed,
        failed_step=run.failed_step,
        dag_id=dag_id,
        run_id=run_id,
    )


def step_result(
    s: StepState, name: str, value: Any, compensation_data: Mapping[str, Any] | None = None
) -> StepResult:
    """One step's ``StepResult``; ``value`` is its result (a forEach step: the list of item results)."""
    return StepResult(
        step_id=s.step_id,
        step_name=name,
        status=s.status,
        optional=s.optional,
        result=_action_result(s, value),
        error=s.error,
        start_time=s.start,
        end_time=s.end,
        duration=s.duration,
        attempts=s.attempts,
        rolled_back=s.status == StepStatus.ROLLED_BACK,
        rollback=_rollback_result(s, compensation_data),
        reason=s.reason,
        items=[_item_result(i) for i in s.items] if s.items is not None else None,
    )


def _action_result(s: StepState, value: Any) -> ActionResult | None:
    if s.items is not None:
        if s.state == SUCCESS and s.status in RAN:
            return ActionResult(success=True, data={"items": list(value) if isinstance(value, list) else []})
        return None
    if s.state == SUCCESS:
        return ActionResult(success=True, data=dict(value or {}))
    if s.summary is not None and s.status in FAILED_STATUSES:
        # A failed control step still says what happened (who rejected, and why).
        return ActionResult(success=False, data=dict(s.summary))
    return None


def _rollback_result(s: StepState, compensation_data: Mapping[str, Any] | None) -> RollbackResult | None:
    if s.rollback is None:
        return None
    return RollbackResult(
        status=s.rollback.status,
        attempts=s.rollback.attempts,
        duration=s.rollback.duration,
        error=s.rollback.error,
        result=(compensation_data or {}).get(s.step_id)
        if s.rollback.status == StepStatus.ROLLED_BACK
        else None,
    )


def _item_result(item: ItemState) -> ItemResult:
    rollback = None
    if item.rollback is not None:
        rollback = RollbackResult(
            status=item.rollback.status,
            attempts=item.rollback.attempts,
            duration=item.rollback.duration,
            error=item.rollback.error,
        )
    return ItemResult(
        index=item.index,
        status=item.status,
        error=item.error,
        reason=item.reason,
        attempts=item.attempts,
        duration=item.duration,
        rollback=rollback,
    )
