"""What the gate and the result task read about their run from the API server (task-sdk requests).

Costs, per run: one ``GetTaskStates`` for the states of every task, and one XCom read per record
needed (the task-sdk has no request that reads XComs of several tasks at once:
``xcom_pull(task_ids=[...])`` sends one ``GetXComSequenceSlice`` per task id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_wfo.saga.names import (
    FAILED,
    OUTCOME_KEY,
    RETURN_KEY,
    SUCCESS,
    compensation_task_id,
)
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan
from airflow_provider_wfo.saga.records import parse_outcome
from airflow_provider_wfo.saga.status import TaskFacts


def run_task_states(ti: Any) -> dict[str, str | None]:
    """task_id -> state for every task instance of the current run (one request)."""
    by_run = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    states = by_run.get(ti.run_id, {}) or {}
    return {str(k): (str(v) if v is not None else None) for k, v in states.items()}


def pull(ti: Any, task_id: str, key: str) -> Any:
    return ti.xcom_pull(task_ids=task_id, key=key)


def failed_step_error(ti: Any, step_id: str | None) -> str | None:
    """The error the failed step recorded (one read), for the decision the compensations see."""
    if step_id is None:
        return None
    recorded = parse_outcome(pull(ti, step_id, OUTCOME_KEY))
    return recorded.error if recorded and recorded.error else f"step {step_id!r} failed"


def read_facts(
    ti: Any, plan: SagaPlan, states: Mapping[str, str | None], decision: GateDecision | None
) -> tuple[dict[str, TaskFacts], dict[str, Any], dict[str, Any]]:
    """Facts about every forward step and chosen compensation, the completed steps' results, and the
    successful compensations' results."""
    facts: dict[str, TaskFacts] = {}
    data: dict[str, Any] = {}
    compensation_data: dict[str, Any] = {}
    for step_id in plan.order:
        state = states.get(step_id)
        outcome = parse_outcome(pull(ti, step_id, OUTCOME_KEY)) if state in (SUCCESS, FAILED) else None
        facts[step_id] = TaskFacts(state=state, outcome=outcome)
        if state == SUCCESS:
            data[step_id] = pull(ti, step_id, RETURN_KEY)
    compensated: Iterable[str] = decision.compensate if decision is not None else ()
    for step_id in compensated:
        task_id = compensation_task_id(step_id)
        state = states.get(task_id)
        facts[task_id] = TaskFacts(state=state, outcome=parse_outcome(pull(ti, task_id, OUTCOME_KEY)))
        if state == SUCCESS:
            value = pull(ti, task_id, RETURN_KEY)
            if isinstance(value, Mapping):
                compensation_data[step_id] = dict(value)
    return facts, data, compensation_data
