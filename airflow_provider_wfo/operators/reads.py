"""What the gate and the result task read about their run from the API server (task-sdk requests).

Costs, per run: one ``GetTaskStates`` for the states of every task, and one XCom read per step that
ran: its ``wfo_outcome``, which carries the action's result (``value``) too, so ``return_value`` is
read only for a record without it. The task-sdk has no request that reads XComs of several tasks at
once (``xcom_pull(task_ids=[...])`` sends one ``GetXComSequenceSlice`` per task id; the execution API
routes take one task id). A forEach step costs one read for all its items together
(``GetXComSequenceSlice`` returns every map index), not one per item: outcomes carry their item's
index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_wfo.operators.scope import mapped_results
from airflow_provider_wfo.saga.facts import TaskFacts
from airflow_provider_wfo.saga.items import items_of
from airflow_provider_wfo.saga.names import (
    FAILED,
    OUTCOME_KEY,
    RETURN_KEY,
    SKIPPED,
    SUCCESS,
    compensation_task_id,
    item_key,
    resolver_task_id,
)
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan
from airflow_provider_wfo.saga.records import UNRECORDED_ERROR, Outcome, parse_outcome


def run_task_states(ti: Any) -> dict[str, str | None]:
    """task_id -> state for every task instance of the current run (one request); a mapped task's
    instances as ``<task id>_<map index>``."""
    by_run = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    states = by_run.get(ti.run_id, {}) or {}
    return {str(k): (str(v) if v is not None else None) for k, v in states.items()}


def pull(ti: Any, task_id: str, key: str) -> Any:
    return ti.xcom_pull(task_ids=task_id, key=key)


def recorded_value(ti: Any, task_id: str, outcome: Outcome | None) -> Any:
    """A completed task's result: from its outcome record, else (a record without it) its return_value."""
    if outcome is not None and outcome.value is not None:
        return dict(outcome.value)
    return pull(ti, task_id, RETURN_KEY)


def item_outcomes(ti: Any, task_id: str) -> dict[int, Outcome]:
    """Every item's ``wfo_outcome`` of a mapped task, by map index, in one request."""
    values = pull(ti, task_id, OUTCOME_KEY)
    listed = [values] if isinstance(values, Mapping) else values if isinstance(values, list) else []
    found: dict[int, Outcome] = {}
    for value in listed:
        parsed = parse_outcome(value)
        if parsed is not None and parsed.index is not None:
            found[parsed.index] = parsed
    return found


def failed_step_error(
    ti: Any, step_id: str | None, plan: SagaPlan | None = None, states: Mapping[str, str | None] | None = None
) -> str | None:
    """The error the failed step recorded (one read), for the decision the compensations see."""
    if step_id is None:
        return None
    fallback = UNRECORDED_ERROR
    if plan is not None and step_id in plan.mapped:
        resolver = resolver_task_id(step_id)
        if (states or {}).get(resolver) == FAILED:
            recorded = parse_outcome(pull(ti, resolver, OUTCOME_KEY))
            return recorded.error if recorded and recorded.error else fallback
        for index, outcome in sorted(item_outcomes(ti, step_id).items()):
            if outcome.status == FAILED and outcome.error:
                return f"item {index}: {outcome.error}"
        return fallback
    recorded = parse_outcome(pull(ti, step_id, OUTCOME_KEY))
    return recorded.error if recorded and recorded.error else fallback


def _mapped_facts(
    ti: Any,
    plan: SagaPlan,
    step_id: str,
    states: Mapping[str, str | None],
    items: Mapping[str, Mapping[int, str]],
    compensated: bool,
    facts: dict[str, TaskFacts],
    data: dict[str, Any],
) -> None:
    resolver = resolver_task_id(step_id)
    state = states.get(resolver)
    outcome = parse_outcome(pull(ti, resolver, OUTCOME_KEY)) if state in (SUCCESS, FAILED, SKIPPED) else None
    facts[resolver] = TaskFacts(state=state, outcome=outcome)
    facts[step_id] = TaskFacts(state=states.get(step_id))
    keys = items.get(step_id, {})
    outcomes = item_outcomes(ti, step_id) if keys else {}
    for index in sorted(keys):
        facts[keys[index]] = TaskFacts(state=states.get(keys[index]), outcome=outcomes.get(index))
    done = [i for i in sorted(keys) if states.get(keys[i]) == SUCCESS]
    if state == SUCCESS and len(done) == len(keys):
        values = [outcomes[i].value if i in outcomes else None for i in done]
        data[step_id] = values if None not in values else mapped_results(ti, step_id, done)
    if compensated:
        comp = compensation_task_id(step_id)
        comp_keys = items.get(comp, {})
        comp_outcomes = item_outcomes(ti, comp) if comp_keys else {}
        for index in sorted(comp_keys):
            key = item_key(comp, index)
            facts[key] = TaskFacts(state=states.get(key), outcome=comp_outcomes.get(index))


def read_facts(
    ti: Any, plan: SagaPlan, states: Mapping[str, str | None], decision: GateDecision | None
) -> tuple[dict[str, TaskFacts], dict[str, Any], dict[str, Any]]:
    """Facts about every forward step and chosen compensation, the completed steps' results, and the
    successful compensations' results."""
    facts: dict[str, TaskFacts] = {}
    data: dict[str, Any] = {}
    compensation_data: dict[str, Any] = {}
    compensated: Iterable[str] = decision.compensate if decision is not None else ()
    items = items_of(plan.mapped_task_ids, states) if plan.mapped else {}
    for step_id in plan.order:
        if step_id in plan.mapped:
            _mapped_facts(ti, plan, step_id, states, items, step_id in compensated, facts, data)
            continue
        state = states.get(step_id)
        # A skipped step has a reason to read only when it can skip itself (when, abort check).
        can_skip = step_id in plan.conditional or bool(plan.guard_ids)
        wanted = (SUCCESS, FAILED, SKIPPED) if can_skip else (SUCCESS, FAILED)
        outcome = parse_outcome(pull(ti, step_id, OUTCOME_KEY)) if state in wanted else None
        facts[step_id] = TaskFacts(state=state, outcome=outcome)
        if state == SUCCESS:
            data[step_id] = recorded_value(ti, step_id, outcome)
    for step_id in compensated:
        if step_id in plan.mapped:
            continue
        task_id = compensation_task_id(step_id)
        state = states.get(task_id)
        outcome = parse_outcome(pull(ti, task_id, OUTCOME_KEY))
        facts[task_id] = TaskFacts(state=state, outcome=outcome)
        if state == SUCCESS:
            value = recorded_value(ti, task_id, outcome)
            if isinstance(value, Mapping):
                compensation_data[step_id] = dict(value)
    return facts, data, compensation_data
