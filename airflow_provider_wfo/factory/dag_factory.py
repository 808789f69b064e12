"""``build_dag(defn) -> airflow.sdk.DAG``: a workflow definition becomes a DAG with saga semantics.

Shape (task ids are fixed, see DEVELOPERS.md and ``saga/names.py``)::

    <step> ... <step>          one WfoStepOperator per step, edges from ordering.upstream_ids
          \\   |   /
        saga_decision          branch, all_done, downstream of EVERY forward task
          /    |     \\
    compensate.<step> ...      TaskGroup ``compensate``, all_done, edges reversed (saga/plan.py)
          \\    |     /
        workflow_result        all_done, the only leaf

A workflow without any rollback has neither gate nor compensations: ``workflow_result`` follows every
forward task directly and makes the decision itself, so N steps run N+1 tasks. ``when`` and ``forEach``
steps: ``factory/mapping.py`` (a forEach step adds its resolver ``foreach.<id>`` to the forward tasks).

Parsing is cheap: no network, DB, connection or connector import happens here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, Param, TaskGroup, TriggerRule

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.params_dialect import with_dialect
from airflow_provider_wfo.factory.mapping import for_each_compensation, for_each_tasks, forward_trigger_rule
from airflow_provider_wfo.factory.plan import plan_for
from airflow_provider_wfo.operators.compensation import WfoCompensationOperator
from airflow_provider_wfo.operators.dispatch import forward_operator_class
from airflow_provider_wfo.operators.result import WfoResultOperator
from airflow_provider_wfo.operators.saga_gate import WfoSagaGateOperator
from airflow_provider_wfo.saga.names import (
    COMPENSATE_GROUP,
    FOREACH_GROUP,
    GATE_TASK_ID,
    RESULT_TASK_ID,
    WFO_TAG,
    resolver_task_id,
)
from airflow_provider_wfo.saga.plan import SagaPlan

#: A fixed past date: a manual DAG needs one, and "now" would change the DAG on every parse.
DEFAULT_START_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: The gate and the result task retry once, promptly, on an infrastructure error (their own
#: verdict is an AirflowFailException, which is never retried).
_INTERNAL_RETRY_DELAY = timedelta(seconds=1)
#: doc_md lists at most this many steps; a 5000-step table helps nobody.
DOC_MAX_STEPS = 50


def _start_date(value: str | None) -> datetime:
    if not value:
        return DEFAULT_START_DATE
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _doc_md(defn: WorkflowDefinition, plan: SagaPlan) -> str:
    lines = [f"## {defn.name}", ""]
    if defn.description:
        lines += [defn.description, ""]
    lines += [
        f"*rollbackOnFailure*: `{str(defn.rollback_on_failure).lower()}` · "
        f"*continueOnOptionalFailure*: `{str(defn.continue_on_optional_failure).lower()}`",
        "",
        "| step | action | after | optional | rollback |",
        "|---|---|---|---|---|",
    ]
    for step in defn.steps[:DOC_MAX_STEPS]:
        rollback = f"`{step.rollback.target}.{step.rollback.action}`" if step.rollback else ""
        after = ", ".join(plan.upstream[step.id]) or "(start)"
        lines.append(
            f"| {step.display_name} (`{step.id}`) | `{step.target}.{step.action}` | {after} | "
            f"{'yes' if step.optional else ''} | {rollback} |"
        )
    if len(defn.steps) > DOC_MAX_STEPS:
        lines.append(f"| ... {len(defn.steps) - DOC_MAX_STEPS} more steps | | | | |")
    return "\n".join(lines)


def _params(defn: WorkflowDefinition) -> dict[str, Param]:
    params: dict[str, Param] = {}
    for name, schema in defn.params.items():
        # The params dialect: Airflow's jsonschema then runs `pattern` on RE2 (params_dialect.py).
        spec: dict[str, Any] = with_dialect(schema)
        params[name] = Param(**spec)
    return params


def _link(upstream: Any, downstream: Any) -> None:
    """``upstream >> downstream`` for two tasks of the same DAG, in O(1).

    ``set_upstream`` hashes the DAG (its hash walks every task id) on every call, which makes a
    5000-step definition quadratic; all our tasks are created inside the one ``with DAG`` block, so
    the only thing left to do is to record the edge on both sides.
    """
    upstream.downstream_task_ids.add(downstream.task_id)
    downstream.upstream_task_ids.add(upstream.task_id)


def build_dag(defn: WorkflowDefinition) -> DAG:
    """One DAG for one definition (dag_id = definition id)."""
    plan = plan_for(defn)
    tags = list(dict.fromkeys([*defn.tags, WFO_TAG]))
    dag_kwargs: dict[str, Any] = {}
    if defn.max_active_runs is not None:
        dag_kwargs["max_active_runs"] = defn.max_active_runs
    if defn.is_paused_upon_creation is not None:
        dag_kwargs["is_paused_upon_creation"] = defn.is_paused_upon_creation
    with DAG(
        dag_id=defn.id,
        dag_display_name=defn.name,
        description=(defn.description or defn.name)[:2000],
        schedule=defn.schedule,
        start_date=_start_date(defn.start_date),
        catchup=defn.catchup,
        tags=tags,
        default_args={"owner": defn.owner},
        params=_params(defn),
        doc_md=_doc_md(defn, plan),
        render_template_as_native_obj=False,
        **dag_kwargs,
    ) as dag:
        forward = _forward_tasks(defn, plan)
        result = WfoResultOperator(
            task_id=RESULT_TASK_ID,
            task_display_name="workflow result",
            plan=plan,
            workflow_name=defn.name,
            step_names={s.id: s.display_name for s in defn.steps},
            trigger_rule=TriggerRule.ALL_DONE,
            retries=1,
            retry_delay=_INTERNAL_RETRY_DELAY,
        )
        if plan.has_gate:
            _saga_tasks(defn, plan, forward, result)
        else:
            for task in forward.values():
                _link(task, result)
    return dag


def _forward_tasks(defn: WorkflowDefinition, plan: SagaPlan) -> dict[str, Any]:
    """Every forward task by task id: one per step, plus the resolver of each forEach step."""
    forward: dict[str, Any] = {}
    #: Where a step's upstream edges end / its downstream edges start (a forEach step's resolver /
    #: mapped task; the step's task itself otherwise).
    entry: dict[str, Any] = {}
    group = TaskGroup(FOREACH_GROUP, tooltip="forEach lists (one per forEach step)") if plan.mapped else None
    for step in defn.steps:
        if step.for_each is not None and group is not None:
            tasks = for_each_tasks(step, plan, group)
            entry[step.id] = forward[tasks.resolver.task_id] = tasks.resolver
            forward[step.id] = tasks.mapped
            continue
        forward[step.id] = entry[step.id] = forward_operator_class(step)(
            task_id=step.id,
            task_display_name=step.display_name,
            step=step,
            plan=plan,
            trigger_rule=forward_trigger_rule(plan, step.id),
        )
    for step_id, parents in plan.upstream.items():
        for parent in parents:
            _link(forward[parent], entry[step_id])
    return forward


def _saga_tasks(
    defn: WorkflowDefinition, plan: SagaPlan, forward: dict[str, Any], result: WfoResultOperator
) -> None:
    """The gate after every forward task, one compensation per rollback in reversed order, all before
    the result task."""
    gate = WfoSagaGateOperator(
        task_id=GATE_TASK_ID,
        task_display_name="saga decision",
        plan=plan,
        trigger_rule=TriggerRule.ALL_DONE,
        retries=1,
        retry_delay=_INTERNAL_RETRY_DELAY,
    )
    for task in forward.values():
        _link(task, gate)
    compensations: dict[str, Any] = {}
    with TaskGroup(COMPENSATE_GROUP, tooltip="Compensations (saga rollback), reverse order"):
        for step in defn.steps:
            if step.rollback is None:
                continue
            if step.for_each is not None:
                resolver = forward[resolver_task_id(step.id)]
                compensations[step.id] = for_each_compensation(step, plan, resolver)
                continue
            compensations[step.id] = WfoCompensationOperator(
                task_id=step.id,
                task_display_name=f"undo {step.display_name}",
                step=step,
                plan=plan,
                trigger_rule=TriggerRule.ALL_DONE,
            )
    for step_id, after in plan.compensation_upstream.items():
        for later in after:
            _link(compensations[later], compensations[step_id])
    for compensation in compensations.values():
        _link(gate, compensation)
        _link(compensation, result)
    _link(gate, result)
