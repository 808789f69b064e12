"""``WfoWorkflowOperator``: a ``workflow.run`` step on Airflow's ``TriggerDagRunOperator``.

It triggers the child workflow's DAG with the resolved ``conf`` and waits for it deferrably
(``wait_for_completion``, ``deferrable``: the triggerer's ``DagStateTrigger`` watches the child run; no
worker slot is held). When the child ends, the step reads the child's ``WorkflowResult`` (its
``workflow_result`` XCom): COMPLETED is the step's result; ROLLED_BACK, ROLLBACK_FAILED or FAILED
fails the step without retry (the child already retried and compensated what it did). A completed
child step is compensated by the step's own ``rollback``, like any step.

Under ``dag.test`` (``wfo run``, ``execute_workflow``) there is no scheduler to start the child run,
so the step hands it to Airflow's ``dag.test`` in a separate process (``local/child_run.py``, started
by module name: the operators sit below ``local/``). That process takes over the run the trigger
created (``dag.test`` replaces a run of the same logical date and names its own run exactly as
``TriggerDagRunOperator`` named this one), so the parent's trigger sees it finish as usual.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.definition.control import WorkflowRunParams
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.control import params_or_record, push_waiting, record, under_dag_test
from airflow_provider_wfo.operators.outcome import utcnow
from airflow_provider_wfo.operators.step import WfoStepOperator
from airflow_provider_wfo.saga.names import RESULT_TASK_ID, RETURN_KEY, WAITING_KEY
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.records import parse_waiting

#: How often the trigger looks at the child run (seconds).
POKE_SECONDS = 2
CHILD_RUN_MODULE = "airflow_provider_wfo.local.child_run"

#: Launched child processes, kept so that they are reaped (polled) instead of left as zombies.
_children: list[subprocess.Popen[bytes]] = []


class WfoWorkflowOperator(WfoStepOperator, TriggerDagRunOperator):
    """``workflow.run``: TriggerDagRunOperator (deferrable, waits) with the saga's checks and result."""

    template_fields = ()
    ui_color = "#e8e3f7"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        child = step.params.get("workflowId")
        kwargs.update(
            trigger_dag_id=child if isinstance(child, str) else "",
            wait_for_completion=True,
            deferrable=True,
            poke_interval=POKE_SECONDS,
            allowed_states=["success"],
            failed_states=["failed"],
            openlineage_inject_parent_info=False,
        )
        super().__init__(step=step, plan=plan, **kwargs)

    def execute(self, context: Any) -> Any:
        self._abort_check(context)
        step = self.wfo_step
        ti = context["ti"]
        start = utcnow()
        model = params_or_record(self, context, step, self.wfo_plan.order, start)
        assert isinstance(model, WorkflowRunParams)
        # The run id TriggerDagRunOperator would make, fixed here so that it can be told (waiting
        # record) and taken over under dag.test (same logical date, same name).
        self.logical_date = start
        self.trigger_run_id = f"manual__{start.isoformat()}"
        self.conf = model.conf
        local = under_dag_test(context)
        # A paused child would stay queued for ever on a deployment; under dag.test nothing is paused.
        self.fail_when_dag_is_paused = not local
        push_waiting(ti, "workflow", None, {"workflowId": model.workflow_id, "runId": self.trigger_run_id})
        self.log.info("running sub-workflow %s (run %s)", model.workflow_id, self.trigger_run_id)
        if local:
            _launch_child(model.workflow_id, self.trigger_run_id)
        return TriggerDagRunOperator.execute(self, context)

    def execute_complete(self, context: Any, event: Any) -> Any:
        """The child run ended: its WorkflowResult is the step's result, or the step fails."""
        ti = context["ti"]
        step = self.wfo_step
        waiting = parse_waiting(ti.xcom_pull(task_ids=ti.task_id, key=WAITING_KEY))
        start = (waiting.since if waiting else None) or utcnow()
        data = event[1] if isinstance(event, (tuple, list)) and len(event) == 2 else {}
        run_ids = list(data.get("run_ids") or []) if isinstance(data, dict) else []
        run_id = run_ids[0] if run_ids else (waiting.detail or {}).get("runId") if waiting else None
        child = self.trigger_dag_id
        result = ti.xcom_pull(dag_id=child, run_id=run_id, task_ids=RESULT_TASK_ID, key=RETURN_KEY)
        if isinstance(result, str):
            result = json.loads(result)
        status = result.get("status") if isinstance(result, dict) else None
        summary = {"workflowId": child, "runId": run_id, "status": status}
        if status == "COMPLETED":
            record(self, ti, status="success", start=start, result=summary, optional=step.optional)
            return result
        told = status or f"the run ended {data.get(run_id) if isinstance(data, dict) else 'unknown'}"
        cause = result.get("error") if isinstance(result, dict) else None
        error = f"step {step.id!r}: sub-workflow {child!r} (run {run_id}) ended {told}"
        if cause:
            error += f": {cause}"
        record(self, ti, status="failed", start=start, error=error, result=summary, optional=step.optional)
        raise AirflowFailException(error)


def _launch_child(dag_id: str, run_id: str) -> None:
    """Start ``dag.test`` of the child run in its own process (see the module docstring)."""
    from airflow import settings

    for proc in list(_children):
        if proc.poll() is not None:
            _children.remove(proc)
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    logs = home / "wfo" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_FOLDER)}
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    with (logs / f"child-{dag_id}-{stamp}.log").open("ab") as log:
        _children.append(
            subprocess.Popen(
                [sys.executable, "-m", CHILD_RUN_MODULE, dag_id, run_id],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
