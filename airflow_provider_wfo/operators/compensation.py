"""``WfoCompensationOperator`` (``compensate.<step id>``): undo one completed step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTimeout

from airflow_provider_wfo.actions.registry import ActionContext, NonRetryableActionError, get_action
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.definition.references import ReferenceError, resolve
from airflow_provider_wfo.operators.outcome import (
    ERROR_NAME,
    FAILED_STEP_NAME,
    GATE_TASK_ID,
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
from airflow_provider_wfo.operators.step import default_conn_id, retry_policy


class WfoCompensationOperator(BaseOperator):
    """Runs ``step.rollback`` when the gate chose it. Trigger rule all_done: a failed or skipped
    compensation never stops the others. Scope: run conf, the forward results it references,
    ``$error`` (the failed step's error text) and ``$failedStep`` (its id)."""

    template_fields: Sequence[str] = ()
    ui_color = "#fde2e1"

    def __init__(self, *, step: WorkflowStep, step_ids: Sequence[str], **kwargs: Any) -> None:
        rollback = step.rollback
        if rollback is None:
            raise ValueError(f"step {step.id!r} has no rollback")
        kwargs.setdefault("retries", rollback.retry_count)
        kwargs.setdefault("retry_delay", timedelta(milliseconds=rollback.retry_delay))
        if rollback.timeout is not None:
            kwargs.setdefault("execution_timeout", timedelta(milliseconds=rollback.timeout))
        kwargs.setdefault("retry_policy", retry_policy())
        kwargs.setdefault("doc_md", f"Undo **{step.display_name}**: `{rollback.target}.{rollback.action}`")
        super().__init__(**kwargs)
        self.wfo_step = step
        self.wfo_step_ids = tuple(step_ids)

    def execute(self, context: Any) -> dict[str, Any]:
        step = self.wfo_step
        rollback = step.rollback
        assert rollback is not None
        ti = context["ti"]
        decision = ti.xcom_pull(task_ids=GATE_TASK_ID, key="return_value")
        # The gate's branch skips unchosen compensations; this guards the case where the gate
        # itself crashed (all_done would otherwise let every compensation run).
        if not isinstance(decision, Mapping) or step.id not in (decision.get("compensate") or []):
            raise AirflowSkipException(f"saga_decision did not ask to compensate {step.id!r}")
        attempt = int(ti.try_number or 1)
        start = utcnow()
        params: Any = None
        try:
            scope = run_scope(context)
            names = [*scope, ERROR_NAME, FAILED_STEP_NAME, RUN_NAME]
            for step_id in referenced_step_ids(rollback.params, self.wfo_step_ids, names):
                value = ti.xcom_pull(task_ids=step_id, key="return_value")
                if value is not None:
                    scope[step_id] = value
            scope[ERROR_NAME] = decision.get("error")
            scope[FAILED_STEP_NAME] = decision.get("failedStep")
            scope[RUN_NAME] = run_builtin(context)
            try:
                params = resolve(rollback.params, scope, where="rollback.params")
            except ReferenceError as exc:
                raise AirflowFailException(f"rollback of {step.id!r}: {exc}") from exc
            action = get_action(rollback.target, rollback.action)
            ctx = ActionContext(
                target=rollback.target,
                action=rollback.action,
                conn_id=default_conn_id(rollback.target, rollback.conn_id),
                idempotency_key=f"{ti.dag_id}:{ti.run_id}:{step.id}:rollback",
                dag_id=ti.dag_id,
                run_id=ti.run_id,
                step_id=step.id,
                attempt=attempt,
                is_rollback=True,
                log=self.log,  # type: ignore[arg-type]
            )
            result = as_json_dict(action(params, ctx), f"rollback {rollback.target}.{rollback.action}")
        except AirflowTaskTimeout as exc:
            self._record(ti, start, attempt, params, f"timed out after {rollback.timeout} ms", exc)
            raise
        except AirflowFailException as exc:
            self._record(ti, start, attempt, params, str(exc), exc)
            raise
        except NonRetryableActionError as exc:
            self._record(ti, start, attempt, params, error_text(exc), exc)
            raise AirflowFailException(f"rollback of {step.id!r}: {error_text(exc)}") from exc
        except Exception as exc:
            self._record(ti, start, attempt, params, error_text(exc), exc)
            raise
        push_outcome(
            ti,
            outcome(status="success", attempt=attempt, start=start, end=utcnow(), params=params),
        )
        return result

    def _record(self, ti: Any, start: Any, attempt: int, params: Any, error: str, exc: BaseException) -> None:
        retryable = not isinstance(exc, (AirflowFailException, NonRetryableActionError))
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
                    timed_out=isinstance(exc, AirflowTaskTimeout),
                    will_retry=retryable and attempt <= (self.retries or 0),
                ),
            )
        except Exception:
            self.log.exception("could not record the outcome of the rollback of %s", self.wfo_step.id)
