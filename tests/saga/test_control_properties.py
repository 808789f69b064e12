"""Saga invariants over generated workflows with ``when`` and ``forEach`` steps and failure points
among items.

Many examples run against the pure rules (``saga/plan.decide``, ``saga/status.derive``) with a small
model of how Airflow runs the generated DAG: ``all_success`` / ``none_failed`` trigger rules, the
abort check, a condition skip, a resolver that maps a step over its list, items in any order, the
gate, and all_done compensations (item by item for a forEach step) ordered by the plan's edges. A few
generated cases also run through real Airflow with ``dag.test`` and are checked against the same
invariants:

* nothing that did not complete is compensated (condition-skipped steps, failed steps, failed items);
* every completed step or item that declares a rollback is compensated exactly once when the saga
  rolls back;
* compensations run in reverse order between steps (the items of one step in any order);
* with no failure, every step whose condition holds runs: a false condition does not cut a sequence.
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
from airflow_provider_wfo.definition.ordering import downstream_ids
from airflow_provider_wfo.definition.validation import validate_workflow
from airflow_provider_wfo.factory.plan import plan_for
from airflow_provider_wfo.results import StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.names import (
    FAILED,
    SKIPPED,
    SUCCESS,
    UPSTREAM_FAILED,
    compensation_task_id,
    item_key,
    resolver_task_id,
)
from airflow_provider_wfo.saga.plan import SagaPlan, decide
from airflow_provider_wfo.saga.records import Outcome
from airflow_provider_wfo.saga.status import TaskFacts, derive

TRUE = {"==": [1, 1]}
FALSE = {"==": [1, 2]}


@st.composite
def workflows(draw: st.DrawFn, max_steps: int = 8) -> dict[str, Any]:
    """Definitions of ``test`` steps; ``_failing`` / ``_items`` / ``_failing_items`` /
    ``_false`` are the test's plan of what happens (removed before validation)."""
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
        if draw(st.integers(0, 5)) == 0:
            step["optional"] = True
        if draw(st.integers(0, 2)) == 0:
            step["_false"] = draw(st.booleans())
            step["when"] = FALSE if step["_false"] else TRUE
        if draw(st.integers(0, 2)) == 0:
            size = draw(st.integers(0, 4))
            step["forEach"] = f"$list{i}"
            step["_items"] = size
            failing = draw(st.sets(st.integers(0, max(size - 1, 0)), max_size=2)) if size else set()
            step["_failing_items"] = sorted(failing)
        else:
            step["_failing"] = draw(st.integers(0, 4)) == 0
        steps.append(step)
    return {
        "id": f"ctl-{uuid.uuid4().hex[:8]}",
        "name": "generated",
        "steps": steps,
        "rollbackOnFailure": draw(st.booleans()) or draw(st.booleans()),
        "continueOnOptionalFailure": draw(st.booleans()) or draw(st.booleans()),
    }


def strip(defn: dict[str, Any]) -> dict[str, Any]:
    clean = dict(defn)
    clean["steps"] = [{k: v for k, v in s.items() if not k.startswith("_")} for s in defn["steps"]]
    return clean


def parent_states(
    plan: SagaPlan, states: Mapping[str, str], items: Mapping[str, int], parent: str
) -> list[str]:
    """The states of a parent's task instances, as Airflow's trigger rules see them."""
    if parent in plan.mapped and items.get(parent):
        return [states[item_key(parent, i)] for i in range(items[parent])]
    return [states[parent]]


def trigger(rule_none_failed: bool, parents: list[str]) -> str | None:
    """None: the task runs; else the state Airflow gives it without running it."""
    if any(p in (FAILED, UPSTREAM_FAILED) for p in parents):
        return UPSTREAM_FAILED
    if not rule_none_failed and any(p == SKIPPED for p in parents):
        return SKIPPED
    return None


def simulate(
    defn: dict[str, Any], plan: SagaPlan, rng: random.Random
) -> tuple[dict[str, str], dict[str, Outcome]]:
    """Run the forward tasks of the generated DAG one at a time, in a random ready order."""
    spec = {s["id"]: s for s in defn["steps"]}
    states: dict[str, str] = {}
    outcomes: dict[str, Outcome] = {}
    items: dict[str, int] = {}
    guards = set(plan.guard_ids)

    def done(step_id: str) -> bool:
        if step_id in plan.mapped:
            n = items.get(step_id)
            if n:
                return all(item_key(step_id, i) in states for i in range(n))
        return step_id in states

    def aborted(key: str) -> bool:
        for g in guards:
            if g in plan.mapped:
                if any(states.get(item_key(g, i)) == FAILED for i in range(items.get(g, 0))):
                    return True
            elif states.get(g) == FAILED:
                return True
        return False

    def skip(key: str, reason: str) -> None:
        states[key] = SKIPPED
        outcomes[key] = Outcome(status="skipped", reason=reason)

    pending: list[tuple[str, str, int]] = [("step", s, -1) for s in plan.order]
    while pending:
        ready = [
            u for u in pending
            if u[0] == "item" or all(done(p) for p in plan.upstream[u[1]])
        ]
        unit = rng.choice(ready)
        pending.remove(unit)
        kind, sid, index = unit
        s = spec[sid]
        if kind == "item":
            key = item_key(sid, index)
            if aborted(key):
                skip(key, "saga aborted: ...")
            else:
                states[key] = FAILED if index in s["_failing_items"] else SUCCESS
                outcomes[key] = Outcome(status=states[key], index=index)
            continue
        entry = resolver_task_id(sid) if sid in plan.mapped else sid
        parents = [st_ for p in plan.upstream[sid] for st_ in parent_states(plan, states, items, p)]
        given_state = trigger(sid in plan.skip_tolerant, parents)
        if given_state is not None:
            states[entry] = given_state
        elif aborted(entry):
            skip(entry, "saga aborted: ...")
        elif s.get("_false"):
            skip(entry, "condition false")
        elif sid in plan.mapped:
            states[entry] = SUCCESS
            items[sid] = s["_items"]
            pending.extend(("item", sid, i) for i in range(s["_items"]))
        else:
            states[entry] = FAILED if s["_failing"] else SUCCESS
        if sid in plan.mapped:
            # the mapped task's own (unexpanded) instance, when there is no item to run
            resolver = states[entry]
            if resolver == SKIPPED or (resolver == SUCCESS and not items.get(sid)):
                states[sid] = SKIPPED
            elif resolver in (FAILED, UPSTREAM_FAILED):
                states[sid] = UPSTREAM_FAILED
    return states, outcomes


def completed_units(plan: SagaPlan, states: Mapping[str, str]) -> set[tuple[str, int]]:
    """(step, item index or -1) of every completed step / item that declares a rollback."""
    units: set[tuple[str, int]] = set()
    for key, state in states.items():
        if state != SUCCESS:
            continue
        for sid in plan.rollback:
            if sid in plan.mapped and key.startswith(f"{sid}_") and key[len(sid) + 1:].isdigit():
                units.add((sid, int(key[len(sid) + 1:])))
            elif key == sid and sid not in plan.mapped:
                units.add((sid, -1))
    return units


def compensate(
    plan: SagaPlan,
    chosen: tuple[str, ...],
    states: Mapping[str, str],
    failing_undo: set[str],
    rng: random.Random,
) -> tuple[dict[str, str], list[tuple[str, int]]]:
    """Compensation task instances in a random order that respects the plan's edges."""
    units = [u for u in completed_units(plan, states) if u[0] in chosen]
    comp_states: dict[str, str] = {}
    order: list[tuple[str, int]] = []
    pending = list(units)
    # a compensation with no task instance to run (not chosen, or no completed item) is done at once
    finished_steps: set[str] = {sid for sid in plan.rollback if not any(u[0] == sid for u in pending)}
    while pending:
        ready = [u for u in pending if all(t in finished_steps for t in plan.compensation_upstream[u[0]])]
        assert ready, "compensation graph has a cycle"
        unit = rng.choice(ready)
        pending.remove(unit)
        order.append(unit)
        sid, index = unit
        key = compensation_task_id(sid) if index < 0 else item_key(compensation_task_id(sid), index)
        comp_states[key] = FAILED if sid in failing_undo else SUCCESS
        if not any(u[0] == sid for u in pending):
            finished_steps.add(sid)
    return comp_states, order


def check_invariants(
    plan: SagaPlan, states: Mapping[str, str], order: list[tuple[str, int]], required_failed: bool
) -> None:
    expected = completed_units(plan, states) if required_failed and plan.rollback_on_failure else set()
    assert set(order) == expected  # exactly the completed ones that declare a rollback...
    assert len(order) == len(set(order))  # ...each once
    downstream = downstream_ids(plan.upstream)
    position: dict[str, list[int]] = {}
    for n, (sid, _) in enumerate(order):
        position.setdefault(sid, []).append(n)
    for sid, spots in position.items():  # reverse between steps
        stack, seen = list(downstream[sid]), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            assert max(position.get(node, [-1])) < min(spots), (sid, node, order)
            stack.extend(downstream[node])


def facts_of(states: Mapping[str, str], outcomes: Mapping[str, Outcome]) -> dict[str, TaskFacts]:
    return {k: TaskFacts(state=v, outcome=outcomes.get(k)) for k, v in states.items()}


@settings(max_examples=500, deadline=None)
@given(defn=workflows(), data=st.data())
def test_invariants_with_conditions_and_items(defn: dict[str, Any], data: st.DataObject) -> None:
    clean = strip(defn)
    assert validate_workflow(clean).valid, validate_workflow(clean).errors
    plan = plan_for(WorkflowDefinition.model_validate(clean))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    failing_undo = data.draw(st.sets(st.sampled_from(list(plan.order)), max_size=1))

    states, outcomes = simulate(defn, plan, rng)
    decision = decide(plan, states)
    required_failed = any(
        (s not in plan.optional) and (
            states.get(s) == FAILED or states.get(resolver_task_id(s)) == FAILED
            or any(states.get(item_key(s, i)) == FAILED for i in range(5))
        )
        for s in plan.order
    )
    assert decision.required_failed == required_failed
    comp_states, order = compensate(plan, decision.compensate, states, failing_undo, rng)
    check_invariants(plan, states, order, required_failed)

    run = derive(plan, facts_of({**states, **comp_states}, outcomes), decision, final=True)
    spec = {s["id"]: s for s in defn["steps"]}
    for step in run.steps:
        s = spec[step.step_id]
        entry = resolver_task_id(step.step_id) if step.step_id in plan.mapped else step.step_id
        outcome = outcomes.get(entry)
        if states[entry] == SKIPPED and s.get("_false") and outcome and outcome.reason == "condition false":
            # skipped by its condition: said why, never compensated
            assert step.status == StepStatus.SKIPPED and step.reason == "condition false"
            assert step.step_id not in decision.compensate
        if step.items is not None:
            for item in step.items:
                state = states[item_key(step.step_id, item.index)]
                undone = comp_states.get(item_key(compensation_task_id(step.step_id), item.index))
                if state == FAILED:
                    assert item.status in (StepStatus.FAILED, StepStatus.FAILED_OPTIONAL)
                    assert item.rollback is None
                elif state == SUCCESS:
                    assert item.status == (
                        StepStatus.COMPLETED if undone is None
                        else StepStatus.ROLLED_BACK if undone == SUCCESS else StepStatus.ROLLBACK_FAILED
                    )
                else:
                    assert item.status == StepStatus.SKIPPED and item.rollback is None
    if FAILED not in states.values():
        # nothing failed: a false condition did not stop any later step whose condition holds
        for s in defn["steps"]:
            if not s.get("_false"):
                assert run.by_id[s["id"]].status == StepStatus.COMPLETED, (s["id"], states)
    if not decision.failing:
        assert run.status == WorkflowStatus.COMPLETED
    elif not order:
        assert run.status == WorkflowStatus.FAILED
    elif all(v == SUCCESS for v in comp_states.values()):
        assert run.status == WorkflowStatus.ROLLED_BACK
    else:
        assert run.status == WorkflowStatus.ROLLBACK_FAILED


# --- a handful of generated cases through real Airflow -------------------------------------------


def _index(key: str) -> int:
    """The item index in an idempotency key (``dag:run:step:index[:rollback]``), or -1."""
    parts = key.split(":")
    if parts[-1] == "rollback":
        parts = parts[:-1]
    return int(parts[-1]) if parts[-1].isdigit() and len(parts) >= 4 else -1


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(defn=workflows(max_steps=5))
def test_invariants_through_dag_test(defn: dict[str, Any], run_workflow: Any, tmp_path: Path) -> None:
    conf: dict[str, Any] = {}
    for s in defn["steps"]:
        if "forEach" in s:
            conf[s["forEach"][1:]] = [
                {"fail": "fatal" if i in s["_failing_items"] else ""} for i in range(s["_items"])
            ]
            s["params"] = {"fail": "$item.fail"}
        elif s.get("_failing"):
            s["params"] = {"fail": "fatal"}
    clean = strip(defn)
    calls_path = tmp_path / f"calls-{defn['id']}.jsonl"
    wfo_test_actions.set_calls_file(calls_path)
    try:
        result = run_workflow(clean, conf)
    finally:
        wfo_test_actions.set_calls_file(None)
    calls = wfo_test_actions.read_calls(calls_path)
    plan = plan_for(WorkflowDefinition.model_validate(clean))
    states = run_workflow.last.task_states

    done = {(c["step"], _index(c["key"])) for c in calls if not c["rollback"]}
    undone = [(c["step"], _index(c["key"])) for c in calls if c["rollback"]]
    required_failed = any(
        s.status == StepStatus.FAILED for s in result.steps
    )
    check_invariants(plan, {k: v for k, v in states.items() if v is not None}, undone, required_failed)
    assert set(undone) <= done  # nothing that did not run is undone
    for s in defn["steps"]:
        step = result.step(s["id"])
        if s.get("_false") and step.status == StepStatus.SKIPPED and step.reason == "condition false":
            assert not any(u[0] == s["id"] for u in undone)
    assert (run_workflow.last.dag_run_state == "success") == (result.status == WorkflowStatus.COMPLETED)
