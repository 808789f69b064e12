"""What the control-step operators (wait, approval, workflow) share: the scope and resolution of their
params, their outcome record (with its summary) and the ``wfo_waiting`` record.

They do not go through ``action_call.call_action``: their work is split across a deferral (or a
person's answer), so the start of the attempt and its end happen in different calls, and on a real
stack in different processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.definition.control import ControlParams, parse_params
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.definition.references import ReferenceError, resolve
from airflow_provider_wfo.operators.outcome import (
    outcome,
    push_outcome,
    referenced_step_ids,
    run_builtin,
    run_scope,
    utcnow,
)
from airflow_provider_wfo.redaction import redact
from airflow_provider_wfo.saga.names import DAG_TEST_USER, RETURN_KEY, RUN_NAME, WAITING_KEY
from airflow_provider_wfo.saga.records import Waiting

__all__ = [
    "escape_literal",
    "params_or_record",
    "push_waiting",
    "record",
    "resolve_control_params",
    "step_scope",
    "under_dag_test",
]


def under_dag_test(context: Any) -> bool:
    """The run is ``dag.test``'s: no scheduler, a trigger runs inline in the same process."""
    return getattr(context.get("dag_run"), "triggering_user_name", None) == DAG_TEST_USER


def step_scope(context: Any, value: Any, step_ids: Sequence[str]) -> dict[str, Any]:
    """Run conf, ``$run`` and the results of the steps ``value`` references (as a forward step sees)."""
    ti = context["ti"]
    scope = run_scope(context)
    for step_id in referenced_step_ids(value, step_ids, [*scope, RUN_NAME]):
        result = ti.xcom_pull(task_ids=step_id, key=RETURN_KEY)
        if result is not None:
            scope[step_id] = result
    scope[RUN_NAME] = run_builtin(context)
    return scope


def resolve_control_params(
    op: BaseOperator, context: Any, step: WorkflowStep, step_ids: Sequence[str], keep: Sequence[str] = ()
) -> tuple[ControlParams, dict[str, Any], dict[str, Any]]:
    """(model, resolved params, scope). Keys in ``keep`` are resolved later by the caller (a poll's
    condition). A bad reference or value is an ``AirflowFailException``: no retry makes it right."""
    raw = {k: v for k, v in step.params.items() if k not in keep}
    scope = step_scope(context, step.params, step_ids)
    try:
        resolved = resolve(raw, scope, where="params")
    except ReferenceError as exc:
        raise AirflowFailException(f"step {step.id!r}: {exc}") from exc
    checked = {**resolved, **{k: step.params[k] for k in keep if k in step.params}}
    try:
        model = parse_params(step.target, step.action, checked)
    except ValueError as exc:
        raise AirflowFailException(f"step {step.id!r}: {exc}") from exc
    return model, resolved, scope


def params_or_record(
    op: BaseOperator, context: Any, step: WorkflowStep, step_ids: Sequence[str], start: datetime
) -> ControlParams:
    """The step's checked params model (approval, workflow); a bad reference or value is recorded as
    the step's failed outcome before it fails the task, so the result and the trace can say why."""
    try:
        model, _, _ = resolve_control_params(op, context, step, step_ids)
    except AirflowFailException as exc:
        record(op, context["ti"], status="failed", start=start, error=str(exc), optional=step.optional)
        raise
    return model


def escape_literal(value: Any) -> Any:
    """A resolved value made inert for a second reading: every ``$`` becomes ``$$``."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: escape_literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_literal(v) for v in value]
    return value


def record(
    op: BaseOperator,
    ti: Any,
    *,
    status: str,
    start: datetime,
    params: Any = None,
    error: str | None = None,
    result: Mapping[str, Any] | None = None,
    optional: bool = False,
    will_retry: bool = False,
) -> None:
    """Push ``wfo_outcome`` (with a control step's summary); never hides the error it records."""
    try:
        rec = outcome(
            status=status,
            attempt=int(ti.try_number or 1),
            start=start,
            end=utcnow(),
            error=error,
            params=params,
            optional=optional,
            will_retry=will_retry,
        )
        if result is not None:
            rec["result"] = redact(dict(result))
        push_outcome(ti, rec)
    except Exception:  # the step's own error matters more than the record of it
        if status == "success":
            raise
        op.log.exception("could not record the outcome of step %r", ti.task_id)


def push_waiting(ti: Any, kind: str, until: datetime | None, detail: Mapping[str, Any]) -> datetime:
    """Tell the readers (``wfo run``, trace, the workflow view) what this step now waits for; returns
    the moment it started waiting (the record's ``since``)."""
    since = utcnow()
    waiting = Waiting(kind=kind, since=since, until=until, detail=redact(dict(detail)))
    ti.xcom_push(key=WAITING_KEY, value=waiting.to_json())
    return since
