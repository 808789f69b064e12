"""Saga invariants over random DAG-shaped definitions and random failure points.

Many examples run against the pure scheduling logic (``saga/plan.py``, ``saga/status.py``) with a
small model of how Airflow runs the generated DAG (all_success forward steps with the abort check, the gate,
all_done compensations ordered by the plan's edges). A handful of generated cases also run through
real Airflow with ``dag.test`` and are checked against the same invariants.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import wfo_test_actions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.ordering import ancestors, downstream_ids, upstream_ids
from airflow_provider_wfo.factory.plan import plan_for as build_plan
from airflow_provider_wfo.results import StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.names import FAILED, SKIPPED, SUCCESS, UPSTREAM_FAILED
from airflow_provider_wfo.saga.plan import SagaPlan, decide, nearest_rollback_descendants
from airflow_provider_wfo.saga.status import workflow_status


def compensation_order_respected(plan: SagaPlan, finished_order: list[str]) -> bool:
    """True when every compensated step was undone after all compensated steps downstream of it."""
    position = {step_id: i for i, step_id in enumerate(finished_order)}
    downstream = downstream_ids(plan.upstream)
    for step_id in finished_order:
        stack = list(downstream[step_id])
        seen: set[str] = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in position and position[node] > position[step_id]:
                return False
            stack.extend(downstream[node])
    return True


@st.composite
def definitions(draw: st.DrawFn, max_steps: int = 10) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=max_steps))
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": f"s{i}", "action": "do", "target": "test", "retryDelay": 0}
        shape = draw(st.sampled_from(["sequential", "depends", "root"])) if i else "root"
        if shape == "depends":
            step["dependsOn"] = sorted(
                draw(st.sets(st.sampled_from([f"s{j}" for j in range(i)]), min_size=1, max_size=3))
            )
        elif shape == "root" and i:
            step["dependsOn"] = []
        if draw(st.booleans()):
            step["rollback"] = {"action": "undo", "target": "test", "retryCount": 0, "retryDelay": 0}
        if draw(st.integers(0, 4)) == 0:
            step["optional"] = True
        steps.append(step)
    return {
        "id": f"prop-{uuid.uuid4().hex[:8]}",
        "name": "generated",
        "steps": steps,
        "rollbackOnFailure": draw(st.booleans()) or draw(st.booleans()),
        "continueOnOptionalFailure": draw(st.booleans()) or draw(st.booleans()),
    }


def simulate_forward(
    plan: SagaPlan, failing: set[str], rng: random.Random
) -> tuple[dict[str, str], list[str]]:
    """Run forward steps one at a time in a random ready order, as dag.test does."""
    states: dict[str, str] = {}
    started: list[str] = []
    pending = list(plan.order)
    guard = set(plan.guard_ids)
    while pending:
        ready = [s for s in pending if all(p in states for p in plan.upstream[s])]
        step = rng.choice(ready)
        pending.remove(step)
        parents = [states[p] for p in plan.upstream[step]]
        if any(p in (FAILED, UPSTREAM_FAILED) for p in parents):
            states[step] = UPSTREAM_FAILED
        elif any(p == SKIPPED for p in parents):
            states[step] = SKIPPED
        elif any(states.get(g) == FAILED for g in guard if g != step):
            states[step] = SKIPPED  # abort check
        else:
            started.append(step)
            states[step] = FAILED if step in failing else SUCCESS
    return states, started


def simulate_compensation(
    plan: SagaPlan, chosen: tuple[str, ...], failing: set[str], rng: random.Random
) -> tuple[dict[str, str], list[str]]:
    """all_done compensations ordered by plan.compensation_upstream; unchosen ones are skipped."""
    states: dict[str, str] = {s: SKIPPED for s in plan.rollback if s not in chosen}
    order: list[str] = []
    pending = list(chosen)
    while pending:
        ready = [s for s in pending if all(t in states for t in plan.compensation_upstream[s])]
        assert ready, "compensation graph has a cycle"
        step = rng.choice(ready)
        pending.remove(step)
        order.append(step)
        states[step] = FAILED if step in failing else SUCCESS
    return states, order


def check_invariants(
    plan: SagaPlan,
    forward: Mapping[str, str | None],
    compensated_order: list[str],
    compensation_states: Mapping[str, str | None],
    status: WorkflowStatus,
) -> None:
    required_failed = any(forward.get(s) == FAILED and s not in plan.optional for s in plan.order)
    optional_counts = not plan.continue_on_optional_failure and any(
        forward.get(s) == FAILED and s in plan.optional for s in plan.order
    )
    expected_compensated = (
        {s for s in plan.rollback if forward.get(s) == SUCCESS}
        if required_failed and plan.rollback_on_failure
        else set()
    )
    # the set of compensated steps == completed steps that declare rollback; nothing twice
    assert set(compensated_order) == expected_compensated
    assert len(compensated_order) == len(set(compensated_order))
    # order respects reversed dependencies
    assert compensation_order_respected(plan, compensated_order)
    # final status consistent with what failed
    if not (required_failed or optional_counts):
        assert status == WorkflowStatus.COMPLETED
    elif not expected_compensated:
        assert status == WorkflowStatus.FAILED
    elif all(compensation_states.get(s) == SUCCESS for s in expected_compensated):
        assert status == WorkflowStatus.ROLLED_BACK
    else:
        assert status == WorkflowStatus.ROLLBACK_FAILED


@settings(max_examples=400, deadline=None)
@given(defn=definitions(max_steps=12), data=st.data())
def test_saga_invariants_on_the_plan(defn: dict[str, Any], data: st.DataObject) -> None:
    plan = build_plan(WorkflowDefinition.model_validate(defn))
    ids = list(plan.order)
    failing = data.draw(st.sets(st.sampled_from(ids), max_size=3))
    failing_undo = data.draw(st.sets(st.sampled_from(ids), max_size=2))
    rng = random.Random(data.draw(st.integers(0, 2**32)))

    forward, started = simulate_forward(plan, failing, rng)
    # nothing starts downstream of a failure, and once a guarded step failed nothing new starts
    for step in started:
        assert all(forward[p] == SUCCESS for p in plan.upstream[step])
    decision = decide(plan, forward)
    comp_states, comp_order = simulate_compensation(plan, decision.compensate, failing_undo, rng)
    status = workflow_status(decision, comp_states)
    check_invariants(plan, forward, comp_order, comp_states, status)
    if decision.failing:
        assert decision.failed_step in decision.failed_steps
        assert forward[decision.failed_step] == FAILED  # type: ignore[index]


@settings(max_examples=300, deadline=None)
@given(defn=definitions(max_steps=14))
def test_compensation_edges_are_exactly_the_needed_order(defn: dict[str, Any]) -> None:
    """C(T) precedes C(S) (transitively) iff T is downstream of S, for rollback-bearing S, T."""
    model = WorkflowDefinition.model_validate(defn)
    plan = build_plan(model)
    upstream = upstream_ids(model.steps)
    comp_up = {s: set(plan.compensation_upstream[s]) for s in plan.rollback}
    for s in plan.rollback:
        must_wait = {t for t in plan.rollback if s in ancestors(upstream, t)}
        waits = set()
        stack = list(comp_up[s])
        while stack:
            t = stack.pop()
            if t not in waits:
                waits.add(t)
                stack.extend(comp_up[t])
        assert waits == must_wait


def test_nearest_rollback_descendants_of_a_long_chain_is_linear() -> None:
    n = 20_000
    upstream = {f"s{i}": ((f"s{i - 1}",) if i else ()) for i in range(n)}
    rollback = {f"s{i}" for i in range(0, n, 3)}
    nearest = nearest_rollback_descendants(upstream, rollback)
    assert nearest["s0"] == ("s3",)
    assert nearest["s1"] == ("s3",)
    assert nearest[f"s{n - 1}"] == ()
    assert downstream_ids(upstream)["s0"] == ["s1"]


# --- a handful of generated cases through real Airflow -------------------------------------------

_STATUS_TO_STATE = {
    StepStatus.COMPLETED: SUCCESS,
    StepStatus.ROLLED_BACK: SUCCESS,
    StepStatus.ROLLBACK_FAILED: SUCCESS,
    StepStatus.FAILED: FAILED,
    StepStatus.FAILED_OPTIONAL: FAILED,
    StepStatus.SKIPPED: SKIPPED,
}


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(defn=definitions(max_steps=6), data=st.data())
def test_saga_invariants_through_dag_test(
    defn: dict[str, Any], data: st.DataObject, run_workflow: Any, tmp_path: Path
) -> None:
    ids = [s["id"] for s in defn["steps"]]
    failing = data.draw(st.sets(st.sampled_from(ids), min_size=1, max_size=2))
    failing_undo = data.draw(st.sets(st.sampled_from(ids), max_size=1))
    for step in defn["steps"]:
        if step["id"] in failing:
            step["params"] = {"fail": "fatal"}
        if "rollback" in step and step["id"] in failing_undo:
            step["rollback"]["params"] = {"fail": "fatal"}
    calls_path = tmp_path / f"calls-{defn['id']}.jsonl"
    wfo_test_actions.set_calls_file(calls_path)
    try:
        result = run_workflow(defn)
    finally:
        wfo_test_actions.set_calls_file(None)
    calls = wfo_test_actions.read_calls(calls_path)

    plan = build_plan(WorkflowDefinition.model_validate(defn))
    forward = {s.step_id: _STATUS_TO_STATE[s.status] for s in result.steps}
    undone = [c["step"] for c in calls if c["rollback"]]
    comp_states = {
        s.step_id: (SUCCESS if s.status == StepStatus.ROLLED_BACK else FAILED)
        for s in result.steps
        if s.rollback is not None
    }
    check_invariants(plan, forward, undone, comp_states, result.status)
    assert (run_workflow.last.dag_run_state == "success") == (result.status == WorkflowStatus.COMPLETED)
    started = [c["step"] for c in calls if not c["rollback"]]
    assert len(started) == len(set(started))  # fatal failures: one attempt each
    assert set(started) == {s for s, st_ in forward.items() if st_ in (SUCCESS, FAILED)}
