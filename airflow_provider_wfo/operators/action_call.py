"""One action call as a forward step or a compensation makes it: scope, resolve, call, record.

Both operators differ only in what they call and what their scope adds (``$error`` and
``$failedStep`` for compensations), so the attempt itself -- and the ``wfo_outcome`` record on every
path out of it -- is written once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowTaskTimeout

from airflow_provider_wfo.actions.registry import (
    ActionContext,
    NonRetryableActionError,
    canonical_target,
    get_action,
)
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.definition.references import ReferenceError, resolve
from airflow_provider_wfo.operators.outcome import as_json_dict, outcome, push_outcome, utcnow
from airflow_provider_wfo.operators.scope import step_scope
from airflow_provider_wfo.redaction import mask_known
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.records import error_text


def default_conn_id(target: str, conn_id: str | None) -> str:
    return conn_id or f"wfo_{canonical_target(target)}"


@dataclass(frozen=True)
class ActionCall:
    #: How errors name the call: ``step 'x'`` or ``rollback of 'x'``.
    label: str
    step_id: str
    target: str
    action: str
    conn_id: str | None
    params: Mapping[str, Any]
    timeout_ms: int | None
    is_rollback: bool = False
    #: Recorded in the outcome: a failed optional step is FAILED_OPTIONAL wherever its status is read.
    optional: bool = False
    #: Names added to the scope after the referenced results (``error``, ``failedStep``, ``item``...).
    extra_scope: Mapping[str, Any] = field(default_factory=dict)
    #: The item's position, for one item of a forEach step (or of its compensation).
    item_index: int | None = None

    @classmethod
    def of(
        cls,
        step: WorkflowStep,
        label: str,
        *,
        rollback: bool = False,
        extra_scope: Mapping[str, Any] | None = None,
        item_index: int | None = None,
    ) -> ActionCall:
        """The forward call of ``step``, or with ``rollback`` its undo (which it must have); for the
        whole step or, with ``item_index``, one item of a forEach step."""
        spec = step.rollback if rollback else step
        assert spec is not None, f"step {step.id!r} has no rollback"
        return cls(
            label=label,
            step_id=step.id,
            target=spec.target,
            action=spec.action,
            conn_id=spec.conn_id,
            params=spec.params,
            timeout_ms=spec.timeout,
            is_rollback=rollback,
            optional=step.optional and not rollback,
            extra_scope=dict(extra_scope or {}),
            item_index=item_index,
        )

    @property
    def where(self) -> str:
        return "rollback.params" if self.is_rollback else "params"


def _context(op: BaseOperator, ti: Any, call: ActionCall, attempt: int) -> ActionContext:
    """What the action is told of its call; the idempotency key is stable across the attempts of one
    step (or item, or rollback) of one run."""
    suffix = f":{call.item_index}" if call.item_index is not None else ""
    suffix += ":rollback" if call.is_rollback else ""
    return ActionContext(
        target=call.target,
        action=call.action,
        conn_id=default_conn_id(call.target, call.conn_id),
        idempotency_key=f"{ti.dag_id}:{ti.run_id}:{call.step_id}{suffix}",
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        step_id=call.step_id,
        attempt=attempt,
        is_rollback=call.is_rollback,
        log=op.log,  # type: ignore[arg-type]
    )


def call_action(
    op: BaseOperator, context: Any, call: ActionCall, plan: SagaPlan, scope: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one attempt and push ``wfo_outcome`` whatever happens; returns the action's JSON result.

    ``scope`` is the one the caller already read (``operators/scope.step_scope``, over its params and
    ``when``); without it the scope is read here."""
    ti = context["ti"]
    attempt = int(ti.try_number or 1)
    start = utcnow()
    params: Any = None

    def record_failure(error: str, exc: BaseException) -> None:
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
                    will_retry=retryable and attempt <= (op.retries or 0),
                    optional=call.optional,
                    index=call.item_index,
                ),
            )
        except Exception:  # the original error matters more than the record of it
            op.log.exception("could not record the outcome of %s", call.label)

    try:
        if scope is None:
            scope = step_scope(context, plan, [call.params], call.extra_scope)
        try:
            params = resolve(call.params, scope, where=call.where)
        except ReferenceError as exc:
            raise AirflowFailException(f"{call.label}: {exc}") from exc
        action = get_action(call.target, call.action)
        kind = "rollback" if call.is_rollback else "action"
        # A connection secret an API echoed back must not reach the result XCom (the DB).
        returned = action(params, _context(op, ti, call, attempt))
        raw = as_json_dict(returned, f"{kind} {call.target}.{call.action}")
        result: dict[str, Any] = mask_known(raw)
    except AirflowTaskTimeout as exc:
        record_failure(f"timed out after {call.timeout_ms} ms", exc)
        raise
    except AirflowFailException as exc:
        record_failure(str(exc), exc)
        raise
    except NonRetryableActionError as exc:
        record_failure(error_text(exc), exc)
        raise AirflowFailException(f"{call.label}: {error_text(exc)}") from exc
    except Exception as exc:
        record_failure(error_text(exc), exc)
        raise
    record = outcome(
        status="success",
        attempt=attempt,
        start=start,
        end=utcnow(),
        params=params,
        optional=call.optional,
        index=call.item_index,
        value=result,
    )
    push_outcome(ti, record)
    return result
