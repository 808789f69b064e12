"""``WfoStepOperator``: one forward step of a workflow, run as one Airflow task."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.events.retry import RecordErrorRetryPolicy
from airflow_provider_wfo.operators.action_call import ActionCall, call_action
from airflow_provider_wfo.saga.names import FAILED
from airflow_provider_wfo.saga.plan import SagaPlan


@functools.cache
def retry_policy() -> RecordErrorRetryPolicy:
    """Keeps each retried attempt's error in the metadata DB (events/retry.py); Airflow still decides."""
    return RecordErrorRetryPolicy()


class WfoStepOperator(BaseOperator):
    """Resolve the step's params, call its action through the registry, record the outcome.

    Values from the definition or the run conf are never rendered by Jinja (``template_fields = ()``):
    the only substitution is the reference language of ``definition/references.py``.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#e8f4fd"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        kwargs.setdefault("retries", step.retry_count)
        kwargs.setdefault("retry_delay", timedelta(milliseconds=step.retry_delay))
        kwargs.setdefault("retry_exponential_backoff", float(step.retry_backoff))
        if step.max_retry_delay is not None:
            kwargs.setdefault("max_retry_delay", timedelta(milliseconds=step.max_retry_delay))
        if step.timeout is not None:
            kwargs.setdefault("execution_timeout", timedelta(milliseconds=step.timeout))
        kwargs.setdefault("doc_md", f"**{step.display_name}**: `{step.target}.{step.action}`")
        kwargs.setdefault("retry_policy", retry_policy())
        super().__init__(**kwargs)
        self.wfo_step = step
        #: One plan shared by every task of the DAG (a per-step copy of its tuples would be quadratic).
        #: The listener reads it too: a step's progress event counts the steps it had to wait for.
        self.wfo_plan = plan

    def _abort_check(self, context: Any) -> None:
        """Forward steps whose ``failed`` state aborts this one before it starts (none in a chain).
        This step's own id in the list is harmless: it is running, not failed, when it checks."""
        guard_ids = self.wfo_plan.guard_ids
        if not guard_ids:
            return
        ti = context["ti"]
        failed = ti.get_ti_count(
            dag_id=ti.dag_id, run_ids=[ti.run_id], task_ids=list(guard_ids), states=[FAILED]
        )
        if failed:
            raise AirflowSkipException(
                f"saga aborted: {failed} step(s) of this run failed for good, so this step does not start"
            )

    def execute(self, context: Any) -> dict[str, Any]:
        self._abort_check(context)
        step = self.wfo_step
        call = ActionCall(
            label=f"step {step.id!r}",
            step_id=step.id,
            target=step.target,
            action=step.action,
            conn_id=step.conn_id,
            params=step.params,
            timeout_ms=step.timeout,
            optional=step.optional,
        )
        return call_action(self, context, call, self.wfo_plan.order)
