"""Whether a forward task runs at all: the abort check and the step's ``when``.

Both end a task that should not run with ``AirflowSkipException`` after recording why in its
``wfo_outcome`` (status ``skipped``, a ``reason``), so every reader reports the step SKIPPED with
that reason and the gate never compensates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_provider_wfo.definition import conditions
from airflow_provider_wfo.definition.conf import ConfError, check_conf, check_conf_keys
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.outcome import outcome, push_outcome, skipped_outcome, utcnow
from airflow_provider_wfo.saga.names import CONDITION_FALSE, FAILED
from airflow_provider_wfo.saga.plan import SagaPlan

__all__ = ["abort_check", "check_run_conf", "check_when", "skip"]


def skip(
    ti: Any, reason: str, *, condition: Any = None, index: int | None = None, optional: bool = False
) -> NoReturn:
    push_outcome(ti, skipped_outcome(reason, condition=condition, index=index, optional=optional))
    raise AirflowSkipException(reason)


def check_run_conf(context: Mapping[str, Any], *, optional: bool = False) -> None:
    """Fail (no retries, the reason recorded) when the run conf breaks the loader's limits, or holds
    a key the workflow does not declare (when it declares params).

    ``wfo run`` and ``execute_workflow`` check conf before a run; a run triggered through the REST
    API or the form reaches us here first (Airflow accepts ``NaN`` and any size)."""
    conf = getattr(context.get("dag_run"), "conf", None)
    declared = getattr(context.get("dag"), "params", None) or {}  # the DAG's own: the declared params
    try:
        check_conf(conf)
        check_conf_keys(conf, declared)
    except ConfError as exc:
        ti = context["ti"]
        index = getattr(ti, "map_index", -1)
        now = utcnow()
        push_outcome(
            ti,
            outcome(
                status="failed",
                attempt=int(ti.try_number or 1),
                start=now,
                end=now,
                error=str(exc),
                optional=optional,
                index=index if isinstance(index, int) and index >= 0 else None,
            ),
        )
        raise AirflowFailException(str(exc)) from None


def abort_check(context: Mapping[str, Any], plan: SagaPlan, *, optional: bool = False) -> None:
    """Skip when a forward step of this run has failed for good (none to check in a chain). The
    caller's own id in the list is harmless: it is running, not failed, when it checks."""
    guard_ids = plan.guard_ids
    if not guard_ids:
        return
    ti = context["ti"]
    failed = ti.get_ti_count(dag_id=ti.dag_id, run_ids=[ti.run_id], task_ids=list(guard_ids), states=[FAILED])
    if failed:
        index = getattr(ti, "map_index", -1)
        skip(
            ti,
            f"saga aborted: {failed} task(s) of this run failed for good, so this step does not start",
            index=index if isinstance(index, int) and index >= 0 else None,
            optional=optional,
        )


def check_when(context: Mapping[str, Any], step: WorkflowStep, scope: Mapping[str, Any]) -> None:
    """Skip with "condition false" when the step's ``when`` does not hold over ``scope``.

    A condition that cannot be evaluated (operands of the wrong type, a missing field of a
    completed step) fails the step without retries: it would fail the same way again."""
    if step.when is None:
        return
    where = f"step {step.id!r} when"
    start = utcnow()
    try:
        holds = conditions.evaluate(step.when, scope, where="when")
    except conditions.ConditionError as exc:
        ti = context["ti"]
        error = f"{where}: {exc}"
        push_outcome(
            ti,
            outcome(
                status="failed",
                attempt=int(ti.try_number or 1),
                start=start,
                end=utcnow(),
                error=error,
                optional=step.optional,
            ),
        )
        raise AirflowFailException(error) from exc
    if not holds:
        skip(
            context["ti"],
            CONDITION_FALSE,
            condition=conditions.resolved(step.when, scope),
            optional=step.optional,
        )
