"""``WfoStepOperator``: one forward step of a workflow, run as one Airflow task."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.events.retry import RecordErrorRetryPolicy
from airflow_provider_wfo.operators.action_call import ActionCall, call_action
from airflow_provider_wfo.operators.gating import abort_check, check_run_conf, check_when
from airflow_provider_wfo.operators.scope import step_scope
from airflow_provider_wfo.saga.plan import SagaPlan


@functools.cache
def retry_policy() -> RecordErrorRetryPolicy:
    """Keeps each retried attempt's error in the metadata DB (events/retry.py); Airflow still decides."""
    return RecordErrorRetryPolicy()


def step_task_kwargs(step: WorkflowStep) -> dict[str, Any]:
    """The Airflow task arguments a step's fields set (retries, timeout, docs).

    For a mapped task (forEach) they must be given to ``partial()``: the scheduler reads a mapped
    task's arguments from its serialized ``partial_kwargs``, never from ``__init__``."""
    kwargs: dict[str, Any] = {
        "retries": step.retry_count,
        "retry_delay": timedelta(milliseconds=step.retry_delay),
        "retry_exponential_backoff": float(step.retry_backoff),
        "doc_md": f"**{step.display_name}**: `{step.target}.{step.action}`",
        "retry_policy": retry_policy(),
    }
    if step.max_retry_delay is not None:
        kwargs["max_retry_delay"] = timedelta(milliseconds=step.max_retry_delay)
    if step.timeout is not None:
        kwargs["execution_timeout"] = timedelta(milliseconds=step.timeout)
    return kwargs


class WfoStepOperator(BaseOperator):
    """Resolve the step's params, call its action through the registry, record the outcome.

    Values from the definition or the run conf are never rendered by Jinja (``template_fields = ()``):
    the only substitution is the reference language of ``definition/references.py``.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#e8f4fd"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        for key, value in step_task_kwargs(step).items():
            kwargs.setdefault(key, value)
        super().__init__(**kwargs)
        self.wfo_step = step
        #: One plan shared by every task of the DAG (a per-step copy of its tuples would be quadratic).
        #: The listener reads it too: a step's progress event counts the steps it had to wait for.
        self.wfo_plan = plan

    def _abort_check(self, context: Any) -> dict[str, Any] | None:
        """The checks before a step starts (every forward operator calls this first): skip ("saga
        aborted") when a forward step of this run failed for good (none in a chain), and skip
        ("condition false") when the step's ``when`` does not hold. Returns the scope read for
        ``when`` (over it and the params), or None when the step has no ``when``."""
        step = self.wfo_step
        check_run_conf(context, optional=step.optional)
        abort_check(context, self.wfo_plan, optional=step.optional)
        if step.when is None:
            return None
        scope = step_scope(context, self.wfo_plan, [step.when, step.params], {})
        check_when(context, step, scope)
        return scope

    def execute(self, context: Any) -> dict[str, Any]:
        step = self.wfo_step
        scope = self._abort_check(context)
        call = ActionCall.of(step, f"step {step.id!r}")
        return call_action(self, context, call, self.wfo_plan, scope)
