"""``WfoResultOperator`` (``workflow_result``): the seed's ``WorkflowResult``, and the run's verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.factory.saga_plan import (
    FAILED,
    SUCCESS,
    GateDecision,
    SagaPlan,
    decide,
    workflow_status,
)
from airflow_provider_wfo.operators.outcome import (
    GATE_TASK_ID,
    OUTCOME_KEY,
    compensation_task_id,
    redact,
    utcnow,
)
from airflow_provider_wfo.operators.saga_gate import failure_error, run_task_states
from airflow_provider_wfo.results import (
    ActionResult,
    Progress,
    RollbackResult,
    StepResult,
    StepStatus,
    WorkflowResult,
    WorkflowStatus,
)

_RAN = {StepStatus.COMPLETED, StepStatus.ROLLED_BACK, StepStatus.ROLLBACK_FAILED}
_FAILED = {StepStatus.FAILED, StepStatus.FAILED_OPTIONAL}


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def decision_from_xcom(raw: Any) -> tuple[GateDecision, str | None] | None:
    if not isinstance(raw, Mapping):
        return None
    return (
        GateDecision(
            failing=bool(raw.get("failing")),
            failed_step=raw.get("failedStep"),
            compensate=tuple(raw.get("compensate") or ()),
            failed_steps=tuple(raw.get("failedSteps") or ()),
        ),
        raw.get("error"),
    )


def assemble_result(
    *,
    plan: SagaPlan,
    workflow_name: str,
    step_names: Mapping[str, str],
    states: Mapping[str, str | None],
    decision: GateDecision,
    error: str | None,
    outcomes: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Any],
    compensation_outcomes: Mapping[str, Mapping[str, Any]],
    compensation_results: Mapping[str, Any] | None = None,
    start_time: datetime | None,
    end_time: datetime,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> WorkflowResult:
    """The WorkflowResult from final task states and recorded outcomes (pure; tested directly)."""
    compensation_states = {s: states.get(compensation_task_id(s)) for s in decision.compensate}
    status = workflow_status(decision, compensation_states)
    compensated = set(decision.compensate)
    steps: list[StepResult] = []
    for step_id in plan.order:
        state = states.get(step_id)
        recorded = outcomes.get(step_id) or {}
        rollback: RollbackResult | None = None
        if state == SUCCESS:
            step_status = StepStatus.COMPLETED
            if step_id in compensated:
                comp_state = compensation_states.get(step_id)
                comp = compensation_outcomes.get(step_id) or {}
                comp_status = StepStatus.ROLLED_BACK if comp_state == SUCCESS else StepStatus.ROLLBACK_FAILED
                step_status = comp_status
                rollback = RollbackResult(
                    status=comp_status,
                    attempts=int(comp.get("attempt") or 0),
                    duration=comp.get("duration"),
                    error=comp.get("error") if comp_status != StepStatus.ROLLED_BACK else None,
                    result=(compensation_results or {}).get(step_id) if comp_state == SUCCESS else None,
                )
                if comp_status == StepStatus.ROLLBACK_FAILED and rollback.error is None:
                    rollback.error = f"compensation ended {comp_state or 'without running'}"
        elif state == FAILED:
            step_status = StepStatus.FAILED_OPTIONAL if step_id in plan.optional else StepStatus.FAILED
        else:
            step_status = StepStatus.SKIPPED
        data = results.get(step_id)
        steps.append(
            StepResult(
                step_id=step_id,
                step_name=step_names.get(step_id, step_id),
                status=step_status,
                optional=step_id in plan.optional,
                result=ActionResult(success=True, data=dict(data or {})) if state == SUCCESS else None,
                error=recorded.get("error") if step_status in _FAILED else None,
                start_time=_parse_time(recorded.get("startTime")) if recorded else None,
                end_time=_parse_time(recorded.get("endTime")) if recorded else None,
                duration=recorded.get("duration") if recorded else None,
                attempts=int(recorded.get("attempt") or 0),
                rolled_back=step_status == StepStatus.ROLLED_BACK,
                rollback=rollback,
            )
        )
    completed = sum(1 for s in steps if s.status in _RAN)
    failed = sum(1 for s in steps if s.status in _FAILED)
    ran = completed + failed
    total = len(steps)
    finished = [s for s in steps if s.end_time is not None and s.status in _RAN | _FAILED]
    last = max(finished, key=lambda s: s.end_time or end_time) if finished else None
    percent = 100 if status == WorkflowStatus.COMPLETED else (100 * ran // total if total else 100)
    progress = Progress(
        current_step=ran,
        total_steps=total,
        completed_steps=completed,
        failed_steps=failed,
        status=status,
        percent_complete=percent,
        current_step_name=last.step_name if last else None,
    )
    workflow_error: str | None = None
    if decision.failing:
        workflow_error = f"step {decision.failed_step!r} failed: {error}" if error else "workflow failed"
    duration = int((end_time - start_time).total_seconds() * 1000) if start_time else None
    return WorkflowResult(
        workflow_id=plan.workflow_id,
        workflow_name=workflow_name,
        status=status,
        start_time=start_time,
        end_time=end_time,
        duration=duration,
        steps=steps,
        progress=progress,
        success=status == WorkflowStatus.COMPLETED,
        error=workflow_error,
        rollback_performed=any(compensation_states.get(s) in (SUCCESS, FAILED) for s in compensated),
        failed_step=decision.failed_step,
        dag_id=dag_id,
        run_id=run_id,
    )


class WfoResultOperator(BaseOperator):
    """Assembles the WorkflowResult, pushes it as XCom ``return_value`` (camelCase dict), then fails the
    task (so the DagRun ends failed and Airflow alerting works) unless the status is COMPLETED."""

    template_fields: Sequence[str] = ()
    ui_color = "#d4edda"

    def __init__(
        self, *, plan: SagaPlan, workflow_name: str, step_names: Mapping[str, str], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.wfo_plan = plan
        self.wfo_workflow_name = workflow_name
        self.wfo_step_names = dict(step_names)

    def build_result(self, context: Mapping[str, Any]) -> WorkflowResult:
        ti = context["ti"]
        plan = self.wfo_plan
        states = run_task_states(context)
        found = decision_from_xcom(ti.xcom_pull(task_ids=GATE_TASK_ID, key="return_value"))
        if found is None:  # the gate did not record a decision: decide again from the same states
            decision = decide(plan, states)
            found = (decision, failure_error(ti, decision.failed_step))
        decision, error = found
        outcomes: dict[str, Mapping[str, Any]] = {}
        results: dict[str, Any] = {}
        for step_id in plan.order:
            if states.get(step_id) in (SUCCESS, FAILED):
                recorded = ti.xcom_pull(task_ids=step_id, key=OUTCOME_KEY)
                if isinstance(recorded, Mapping):
                    outcomes[step_id] = recorded
            if states.get(step_id) == SUCCESS:
                results[step_id] = ti.xcom_pull(task_ids=step_id, key="return_value")
        compensation_outcomes: dict[str, Mapping[str, Any]] = {}
        compensation_results: dict[str, Any] = {}
        for step_id in decision.compensate:
            task_id = compensation_task_id(step_id)
            recorded = ti.xcom_pull(task_ids=task_id, key=OUTCOME_KEY)
            if isinstance(recorded, Mapping):
                compensation_outcomes[step_id] = recorded
            if states.get(task_id) == SUCCESS:
                value = ti.xcom_pull(task_ids=task_id, key="return_value")
                if isinstance(value, Mapping):
                    compensation_results[step_id] = dict(value)
        dag_run = context.get("dag_run")
        start = getattr(dag_run, "start_date", None)
        return assemble_result(
            plan=plan,
            workflow_name=self.wfo_workflow_name,
            step_names=self.wfo_step_names,
            states=states,
            decision=decision,
            error=error,
            outcomes=outcomes,
            results=results,
            compensation_outcomes=compensation_outcomes,
            compensation_results=compensation_results,
            start_time=start,
            end_time=utcnow(),
            dag_id=ti.dag_id,
            run_id=ti.run_id,
        )

    def execute(self, context: Any) -> dict[str, Any]:
        result = self.build_result(context)
        # Step data is what connectors returned; mask anything that looks like a secret before it
        # becomes the run's public record (nothing downstream references this copy).
        payload: dict[str, Any] = redact(result.to_json_dict())
        self.log.info(
            "workflow %s: %s (%s/%s steps completed)%s",
            result.workflow_id,
            result.status.value,
            result.progress.completed_steps,
            result.progress.total_steps,
            f"; {result.error}" if result.error else "",
        )
        if result.status != WorkflowStatus.COMPLETED:
            context["ti"].xcom_push(key="return_value", value=payload)
            raise AirflowFailException(f"workflow {result.status.value}: {result.error or ''}".rstrip(": "))
        return payload
