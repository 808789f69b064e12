"""The Airflow tasks of ``when`` and ``forEach`` steps (kept apart from ``dag_factory.py``).

* Trigger rules: a step right after a step with ``when`` or ``forEach`` runs on ``none_failed`` (it
  runs after a skip as after a success, and not after a failure); every other step keeps
  ``all_success``. ``none_failed_min_one_success`` would cut a sequence off after two false
  conditions in a row.
* A forEach step ``S`` is a resolver ``foreach.<S>`` (the step's edges and trigger rule) followed by
  the mapped task ``S`` (``all_success`` on the resolver only), and, when it has a rollback, a mapped
  ``compensate.<S>`` over the same list. Everything the scheduler reads of a mapped task -- retries,
  delays, timeouts, ``max_active_tis_per_dagrun`` (``maxConcurrency``) -- goes to ``partial()``,
  because Airflow never runs ``__init__`` of a mapped operator on the scheduler.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator, TaskGroup, TriggerRule

from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.compensation import compensation_task_kwargs
from airflow_provider_wfo.operators.foreach import (
    WfoForEachOperator,
    WfoItemCompensationOperator,
    WfoItemOperator,
)
from airflow_provider_wfo.operators.step import step_task_kwargs
from airflow_provider_wfo.saga.plan import SagaPlan

__all__ = ["ForEachTasks", "for_each_compensation", "for_each_tasks", "forward_trigger_rule"]

#: The resolver retries once, promptly, on an infrastructure error; a bad list is never retried.
_RESOLVER_RETRY_DELAY = timedelta(seconds=1)


def forward_trigger_rule(plan: SagaPlan, step_id: str) -> TriggerRule:
    return TriggerRule.NONE_FAILED if step_id in plan.skip_tolerant else TriggerRule.ALL_SUCCESS


class ForEachTasks:
    """The resolver (where the step's upstream edges end) and the mapped task (where its downstream
    edges start)."""

    def __init__(self, resolver: WfoForEachOperator, mapped: Any) -> None:
        self.resolver = resolver
        self.mapped = mapped


def for_each_tasks(step: WorkflowStep, plan: SagaPlan, group: TaskGroup) -> ForEachTasks:
    resolver = WfoForEachOperator(
        task_id=step.id,
        task_group=group,
        task_display_name=f"{step.display_name}: items",
        step=step,
        plan=plan,
        trigger_rule=forward_trigger_rule(plan, step.id),
        retries=1,
        retry_delay=_RESOLVER_RETRY_DELAY,
    )
    kwargs = step_task_kwargs(step)
    if step.max_concurrency is not None:
        kwargs["max_active_tis_per_dagrun"] = step.max_concurrency
    mapped = WfoItemOperator.partial(
        task_id=step.id,
        task_display_name=step.display_name,
        step=step.to_json_dict(),
        plan=plan,
        trigger_rule=TriggerRule.ALL_SUCCESS,
        **kwargs,
    ).expand(wfo_item=resolver.output)
    return ForEachTasks(resolver, mapped)


def for_each_compensation(step: WorkflowStep, plan: SagaPlan, resolver: BaseOperator) -> Any:
    """``compensate.<S>``, mapped over the resolver's list (call inside the ``compensate`` group)."""
    kwargs = compensation_task_kwargs(step)
    if step.max_concurrency is not None:
        kwargs["max_active_tis_per_dagrun"] = step.max_concurrency
    return WfoItemCompensationOperator.partial(
        task_id=step.id,
        task_display_name=f"undo {step.display_name}",
        step=step.to_json_dict(),
        plan=plan,
        trigger_rule=TriggerRule.ALL_DONE,
        **kwargs,
    ).expand(wfo_item=resolver.output)
