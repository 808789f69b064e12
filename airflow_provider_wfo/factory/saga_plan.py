"""The saga, as pure data: which compensation waits for which, what the gate decides, what status results.

Nothing here imports Airflow, so the scheduling logic is tested directly with many generated cases
(``tests/saga/test_saga_properties.py``) and the operators stay thin wrappers around it.

Rules (DEVELOPERS.md, "Fixed decisions"):

* The saga is *failing* when some required step ended ``failed``; with ``continueOnOptionalFailure``
  false, a failed optional step counts too (but never triggers compensation).
* When it is failing because a required step failed and ``rollbackOnFailure`` is true, every step that
  ended ``success`` and declares ``rollback`` is compensated.
* ``C(S)`` waits for ``C(T)`` for every ``T`` in ``nearest_rollback_descendants(S)``: the closest steps
  after ``S`` (descending through steps without rollback) that have a rollback. So a step is undone only
  after everything that came after it was undone, and independent branches unwind in parallel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.ordering import downstream_ids, topological_order, upstream_ids
from airflow_provider_wfo.results import WorkflowStatus

#: Airflow task-instance states, as strings (no Airflow import here).
SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"
UPSTREAM_FAILED = "upstream_failed"


@dataclass(frozen=True)
class SagaPlan:
    """Everything about a definition that the saga needs, computed once at parse time."""

    workflow_id: str
    order: tuple[str, ...]
    upstream: Mapping[str, tuple[str, ...]]
    optional: frozenset[str]
    rollback: frozenset[str]
    #: ``C(S)`` -> the steps ``T`` whose compensation ``C(T)`` must finish first.
    compensation_upstream: Mapping[str, tuple[str, ...]]
    continue_on_optional_failure: bool = True
    rollback_on_failure: bool = True

    @property
    def is_chain(self) -> bool:
        """One root and every step waits for exactly the one before it: nothing ever runs beside a step."""
        roots = [s for s in self.order if not self.upstream[s]]
        return len(roots) == 1 and all(
            len(self.upstream[s]) == 1 and self.upstream[s][0] == prev
            for prev, s in pairwise(self.order)
        )

    @property
    def guard_ids(self) -> tuple[str, ...]:
        """Forward steps whose failure stops new steps from starting (the abort check).

        Empty for a chain: a step there runs only when every step before it succeeded, and no step
        runs beside it, so there is no failure to find and the check's API request is saved."""
        if self.is_chain:
            return ()
        if self.continue_on_optional_failure:
            return tuple(s for s in self.order if s not in self.optional)
        return self.order


@dataclass(frozen=True)
class GateDecision:
    """What ``saga_decision`` concluded from the forward states."""

    failing: bool
    failed_step: str | None = None
    #: Steps whose compensation runs, in definition order.
    compensate: tuple[str, ...] = ()
    #: The failed steps that made the saga fail, in definition order.
    failed_steps: tuple[str, ...] = field(default=())
    #: True when a required step failed (so compensation was asked for, if rollbackOnFailure).
    required_failed: bool = False

    def to_xcom(self, error: str | None = None) -> dict[str, object]:
        return {
            "failing": self.failing,
            "failedStep": self.failed_step,
            "failedSteps": list(self.failed_steps),
            "error": error,
            "compensate": list(self.compensate),
        }


def nearest_rollback_descendants(
    upstream: Mapping[str, Sequence[str]], rollback: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """For every step, the closest downstream steps with a rollback, looking through those without one.

    One pass in reverse topological order; each step's answer is built from its children's answers, so
    the cost is linear in steps + edges times the answer size (1 for a chain, bounded by the width of
    the DAG otherwise).
    """
    has_rollback = set(rollback)
    downstream = downstream_ids(upstream)
    nearest: dict[str, tuple[str, ...]] = {}
    for step_id in reversed(topological_order(upstream)):
        found: dict[str, None] = {}
        for child in downstream[step_id]:
            if child in has_rollback:
                found[child] = None
            else:
                found.update(dict.fromkeys(nearest[child]))
        nearest[step_id] = tuple(found)
    return nearest


def build_plan(defn: WorkflowDefinition) -> SagaPlan:
    upstream = upstream_ids(defn.steps)
    rollback = frozenset(s.id for s in defn.steps if s.rollback is not None)
    nearest = nearest_rollback_descendants(upstream, rollback)
    return SagaPlan(
        workflow_id=defn.id,
        order=tuple(s.id for s in defn.steps),
        upstream=upstream,
        optional=frozenset(s.id for s in defn.steps if s.optional),
        rollback=rollback,
        compensation_upstream={s: nearest[s] for s in upstream if s in rollback},
        continue_on_optional_failure=defn.continue_on_optional_failure,
        rollback_on_failure=defn.rollback_on_failure,
    )


def decide(plan: SagaPlan, states: Mapping[str, str | None]) -> GateDecision:
    """The gate's decision from the final states of the forward tasks."""
    counted: list[str] = []
    required_failed = False
    for step_id in plan.order:
        if states.get(step_id) != FAILED:
            continue
        if step_id in plan.optional:
            if not plan.continue_on_optional_failure:
                counted.append(step_id)
        else:
            counted.append(step_id)
            required_failed = True
    if not counted:
        return GateDecision(failing=False)
    compensate: tuple[str, ...] = ()
    if required_failed and plan.rollback_on_failure:
        compensate = tuple(s for s in plan.order if s in plan.rollback and states.get(s) == SUCCESS)
    first_required = next((s for s in counted if s not in plan.optional), counted[0])
    return GateDecision(
        failing=True,
        failed_step=first_required,
        compensate=compensate,
        failed_steps=tuple(counted),
        required_failed=required_failed,
    )


def workflow_status(decision: GateDecision, compensation_states: Mapping[str, str | None]) -> WorkflowStatus:
    """COMPLETED, FAILED (nothing undone), ROLLED_BACK, or ROLLBACK_FAILED (some undo did not succeed)."""
    if not decision.failing:
        return WorkflowStatus.COMPLETED
    if not decision.compensate:
        return WorkflowStatus.FAILED
    if all(compensation_states.get(s) == SUCCESS for s in decision.compensate):
        return WorkflowStatus.ROLLED_BACK
    return WorkflowStatus.ROLLBACK_FAILED


def compensation_order_respected(plan: SagaPlan, finished_order: Sequence[str]) -> bool:
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
