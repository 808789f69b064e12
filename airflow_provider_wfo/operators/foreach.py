"""The tasks of a ``forEach`` step ``S``, on Airflow's dynamic task mapping.

* ``foreach.<S>`` (:class:`WfoForEachOperator`): the abort check, ``when``, then the list. Its
  returned list is what Airflow maps over (its length is recorded as the map length).
* ``S`` (:class:`WfoItemOperator`, mapped over that list): one task instance per item; ``$item`` is
  the item and ``$index`` its position; the idempotency key ends with ``:<index>``.
* ``compensate.<S>`` (:class:`WfoItemCompensationOperator`, mapped over the same list): item ``i``
  undoes item ``i`` of ``S`` when that item completed (its result exists) and the gate chose ``S``;
  ``$S`` is that item's result, ``$item`` that item. Items that did not complete skip.

Airflow runs ``__init__`` of a mapped operator only when it unmaps a task instance on the worker,
so every scheduler-side argument (retries, timeouts, ``max_active_tis_per_dagrun``) is given to
``partial()`` by the factory (``factory/mapping.py``), not set here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.definition.references import ReferenceError, resolve_string
from airflow_provider_wfo.operators.action_call import ActionCall, call_action
from airflow_provider_wfo.operators.compensation import WfoCompensationOperator
from airflow_provider_wfo.operators.gating import abort_check, check_run_conf, check_when
from airflow_provider_wfo.operators.outcome import outcome, push_outcome, utcnow
from airflow_provider_wfo.operators.scope import step_scope
from airflow_provider_wfo.operators.step import WfoStepOperator
from airflow_provider_wfo.saga.names import (
    INDEX_NAME,
    ITEM_NAME,
    RETURN_KEY,
)
from airflow_provider_wfo.saga.plan import SagaPlan

__all__ = ["WfoForEachOperator", "WfoItemCompensationOperator", "WfoItemOperator", "max_items"]

#: Airflow's own default for ``[core] max_map_length``.
DEFAULT_MAX_ITEMS = 1024


def max_items() -> int:
    """The longest list a forEach step maps over: Airflow's ``[core] max_map_length``.

    The API server enforces it when the list is stored (with a vague 400); checking here first gives
    a clear message. Set it to the same value on every Airflow component."""
    try:
        from airflow.configuration import conf

        return conf.getint("core", "max_map_length", fallback=DEFAULT_MAX_ITEMS)
    except Exception:  # pragma: no cover - a worker without airflow-core's config
        return DEFAULT_MAX_ITEMS


def _as_step(step: WorkflowStep | Mapping[str, Any]) -> WorkflowStep:
    # partial() stores the step as its JSON dict (readable in the serialized DAG).
    return step if isinstance(step, WorkflowStep) else WorkflowStep.model_validate(step)


def _map_index(context: Mapping[str, Any]) -> int:
    index = getattr(context["ti"], "map_index", -1)
    return index if isinstance(index, int) and index >= 0 else 0


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


class WfoForEachOperator(BaseOperator):
    """``foreach.<S>``: decides whether the forEach step runs and returns its list."""

    template_fields: Sequence[str] = ()
    ui_color = "#eef6ee"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        kwargs.setdefault("doc_md", f"The list **{step.display_name}** runs over: `{step.for_each}`")
        super().__init__(**kwargs)
        self.wfo_step = step
        self.wfo_plan = plan

    def execute(self, context: Any) -> list[Any]:
        step = self.wfo_step
        ti = context["ti"]
        check_run_conf(context, optional=step.optional)
        abort_check(context, self.wfo_plan, optional=step.optional)
        start = utcnow()
        assert step.for_each is not None
        scope = step_scope(context, self.wfo_plan, [step.when, step.for_each], {})
        check_when(context, step, scope)
        try:
            items = self._items(scope)
        except AirflowFailException as exc:
            push_outcome(
                ti,
                outcome(
                    status="failed",
                    attempt=int(ti.try_number or 1),
                    start=start,
                    end=utcnow(),
                    error=str(exc),
                    optional=step.optional,
                ),
            )
            raise
        push_outcome(
            ti,
            outcome(
                status="success",
                attempt=int(ti.try_number or 1),
                start=start,
                end=utcnow(),
                params={"items": len(items)},
                optional=step.optional,
            ),
        )
        self.log.info("step %r runs over %d item(s)", step.id, len(items))
        return items

    def _items(self, scope: Mapping[str, Any]) -> list[Any]:
        step = self.wfo_step
        assert step.for_each is not None
        label = f"step {step.id!r} forEach {step.for_each!r}"
        try:
            value = resolve_string(step.for_each, scope, "forEach")
        except ReferenceError as exc:
            raise AirflowFailException(f"{label}: {exc}") from exc
        if not isinstance(value, list):
            raise AirflowFailException(f"{label} gave {_describe(value)}; forEach needs a list")
        limit = max_items()
        if len(value) > limit:
            raise AirflowFailException(
                f"{label}: the list has {len(value)} items; the limit is {limit} (Airflow's "
                "[core] max_map_length: raise it on every Airflow component, or split the list)"
            )
        return value


class WfoItemOperator(WfoStepOperator):
    """One item of a forEach step (mapped over ``wfo_item``)."""

    def __init__(
        self, *, step: WorkflowStep | Mapping[str, Any], plan: SagaPlan, wfo_item: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(step=_as_step(step), plan=plan, **kwargs)
        self.wfo_item = wfo_item

    def execute(self, context: Any) -> dict[str, Any]:
        step = self.wfo_step
        index = _map_index(context)
        # Per item only the abort check: the step's ``when`` was checked once, by the resolver.
        abort_check(context, self.wfo_plan, optional=step.optional)
        call = ActionCall.of(
            step,
            f"step {step.id!r} item {index}",
            extra_scope={ITEM_NAME: self.wfo_item, INDEX_NAME: index},
            item_index=index,
        )
        return call_action(self, context, call, self.wfo_plan)


class WfoItemCompensationOperator(WfoCompensationOperator):
    """Undo one completed item of a forEach step (mapped over the same list as the step)."""

    def __init__(
        self, *, step: WorkflowStep | Mapping[str, Any], plan: SagaPlan, wfo_item: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(step=_as_step(step), plan=plan, **kwargs)
        self.wfo_item = wfo_item

    def execute(self, context: Any) -> dict[str, Any]:
        step = self.wfo_step
        ti = context["ti"]
        index = _map_index(context)
        decision = self._chosen_decision(ti)
        result = ti.xcom_pull(task_ids=step.id, key=RETURN_KEY, map_indexes=index)
        if result is None:
            raise AirflowSkipException(f"item {index} of {step.id!r} did not complete: nothing to undo")
        call = self._rollback_call(
            decision,
            f"rollback of {step.id!r} item {index}",
            {step.id: result, ITEM_NAME: self.wfo_item, INDEX_NAME: index},
            item_index=index,
        )
        return call_action(self, context, call, self.wfo_plan)
