"""``WfoResultOperator`` (``workflow_result``): the seed's ``WorkflowResult``, and the run's verdict.

In a workflow with a rollback it follows the gate and the compensations and reads the gate's
decision; in a workflow without any rollback there is no gate and this task decides (N+1 tasks).
Either way the statuses come from ``saga/status.derive`` and the result from ``saga/result``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.operators.outcome import utcnow
from airflow_provider_wfo.operators.reads import pull, read_facts, run_task_states
from airflow_provider_wfo.redaction import redact
from airflow_provider_wfo.results import WorkflowResult, WorkflowStatus
from airflow_provider_wfo.saga.names import GATE_TASK_ID, RETURN_KEY
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan, decide
from airflow_provider_wfo.saga.result import workflow_result
from airflow_provider_wfo.saga.status import derive


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
        states = run_task_states(ti)
        decision = GateDecision.from_xcom(pull(ti, GATE_TASK_ID, RETURN_KEY)) if plan.has_gate else None
        if decision is None:  # no gate, or it recorded nothing: decide from the same states
            decision = decide(plan, states)
        facts, data, compensation_data = read_facts(ti, plan, states, decision)
        dag_run = context.get("dag_run")
        run = derive(
            plan,
            facts,
            decision,
            final=True,
            names=self.wfo_step_names,
            start=getattr(dag_run, "start_date", None),
            end=utcnow(),
        )
        return workflow_result(
            plan,
            run,
            workflow_name=self.wfo_workflow_name,
            step_names=self.wfo_step_names,
            data=data,
            compensation_data=compensation_data,
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
            context["ti"].xcom_push(key=RETURN_KEY, value=payload)
            raise AirflowFailException(f"workflow {result.status.value}: {result.error or ''}".rstrip(": "))
        return payload
