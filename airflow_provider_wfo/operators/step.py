"""``WfoStepOperator``: one forward step of a workflow, run as one Airflow task."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTimeout

from airflow_provider_wfo.actions.registry import (
    ActionContext,
    NonRetryableActionError,
    canonical_target,
    get_action,
)
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.definition.references import ReferenceError, resolve
from airflow_provider_wfo.operators.outcome import (
    RUN_NAME,
    as_json_dict,
    error_text,
    outcome,
    push_outcome,
    referenced_step_ids,
    run_builtin,
    run_scope,
    utcnow,
)


def default_conn_id(target: str, conn_id: str | None) -> str:
    return conn_id or f"wfo_{canonical_target(target)}"


@functools.cache
def retry_policy() -> Any:
    """Keeps each retried attempt's error in the metadata DB (events/retry.py); Airflow still decides."""
    try:
        from airflow_provider_wfo.events.retry import RecordErrorRetryPolicy
    except ImportError:  # pragma: no cover - events not installed in this tree
        return None
    return RecordErrorRetryPolicy()


class WfoStepOperator(BaseOperator):
    """Resolve the step's params, call its action through the registry, record the outcome.

    Values from the definition or the run conf are never rendered by Jinja (``template_fields = ()``):
    the only substitution is the reference language of ``definition/references.py``.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        step: WorkflowStep,
        step_ids: Sequence[str],
        guard_ids: Sequence[str],
        **kwargs: Any,
    ) -> None:
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
        self.wfo_step_ids = tuple(step_ids)
        #: Forward steps whose ``failed`` state aborts this one before it starts. One tuple shared by
        #: every step of the DAG (a per-step copy would be quadratic); this step's own id in it is
        #: harmless, it is running, not failed, when it checks.
        self.wfo_guard_ids = guard_ids

    def _abort_check(self, context: Any) -> None:
        if not self.wfo_guard_ids:
            return
        ti = context["ti"]
        failed = ti.get_ti_count(
            dag_id=ti.dag_id, run_ids=[ti.run_id], task_ids=list(self.wfo_guard_ids), states=["failed"]
        )
        if failed:
            raise AirflowSkipException(
                f"saga aborted: {failed} step(s) of this run failed for good, so this step does not start"
            )

    def execute(self, context: Any) -> dict[str, Any]:
        self._abort_check(context)
        step = self.wfo_step
        ti = context["ti"]
        attempt = int(ti.try_number or 1)
        start = utcnow()
        params: Any = None
        try:
            scope = run_scope(context)
            for step_id in referenced_step_ids(step.params, self.wfo_step_ids, [*scope, RUN_NAME]):
                value = ti.xcom_pull(task_ids=step_id, key="return_value")
                if value is not None:
                    scope[step_id] = value
            scope[RUN_NAME] = run_builtin(context)
            try:
                params = resolve(step.params, scope)
            except ReferenceError as exc:
                raise AirflowFailException(f"step {step.id!r}: {exc}") from exc
            action = get_action(step.target, step.action)
            ctx = ActionContext(
                target=step.target,
                action=step.action,
                conn_id=default_conn_id(step.target, step.conn_id),
                idempotency_key=f"{ti.dag_id}:{ti.run_id}:{step.id}",
                dag_id=ti.dag_id,
                run_id=ti.run_id,
                step_id=step.id,
                attempt=attempt,
                is_rollback=False,
                log=self.log,  # type: ignore[arg-type]
            )
            result = as_json_dict(action(params, ctx), f"action {step.target}.{step.action}")
        except AirflowTaskTimeout as exc:
            self._record(
                ti,
                start,
                attempt,
                params,
                f"timed out after {step.timeout} ms",
                attempt <= (self.retries or 0),
                exc,
            )
            raise
        except AirflowFailException as exc:
            self._record(ti, start, attempt, params, str(exc), False, exc)
            raise
        except NonRetryableActionError as exc:
            self._record(ti, start, attempt, params, error_text(exc), False, exc)
            raise AirflowFailException(f"step {step.id!r}: {error_text(exc)}") from exc
        except Exception as exc:
            self._record(ti, start, attempt, params, error_text(exc), attempt <= (self.retries or 0), exc)
            raise
        push_outcome(
            ti,
            outcome(status="success", attempt=attempt, start=start, end=utcnow(), params=params),
        )
        return result

    def _record(
        self,
        ti: Any,
        start: Any,
        attempt: int,
        params: Any,
        error: str,
        will_retry: bool,
        exc: BaseException,
    ) -> None:
        timed_out = isinstance(exc, AirflowTaskTimeout)
        try:
            push_outcome(
                ti,
                outcome(
                    status="failed",
                    attempt=attempt,
                    start=start,
                    end=utcnow(),
                    error=error,
                    params=params,
                    timed_out=timed_out,
                    will_retry=will_retry and not isinstance(exc, AirflowFailException),
                ),
            )
        except Exception:  # the original error matters more than the record of it
            self.log.exception("could not record the outcome of step %s", self.wfo_step.id)
