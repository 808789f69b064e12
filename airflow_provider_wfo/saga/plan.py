"""The saga as pure data: which compensation waits for which, and what the gate decides.

Nothing here imports Airflow or the definition layer, so the rules are tested directly with many
generated cases (``tests/saga/test_saga_properties.py``) and the operators stay thin wrappers.
:func:`build_plan` takes the forward edges as an argument: the ordering rule itself is
``definition/ordering.upstream_ids`` (the factory passes its answer in).

Rules (DEVELOPERS.md, "Fixed decisions"):

* The saga is *failing* when some required step ended ``failed``; with ``continueOnOptionalFailure``
  false, a failed optional step counts too (but never triggers compensation).
* When it is failing because a required step failed and ``rollbackOnFailure`` is true, every step that
  ended ``success`` and declares ``rollback`` is compensated.
* ``C(S)`` waits for ``C(T)`` for every ``T`` in ``nearest_rollback_descendants(S)``: the closest steps
  after ``S`` (descending through steps without rollback) that have a rollback. So a step is undone only
  after everything that came after it was undone, and independent branches unwind in parallel.
* A step whose ``when`` is false ends ``skipped`` and is never compensated; the steps right after a
  step with ``when`` or ``forEach`` (:attr:`SagaPlan.skip_tolerant`) run after a skip as after a
  success (Airflow's ``none_failed``), so a condition does not cut a sequence off. Such a step can
  be skipped while later steps complete, so compensations also wait past it (see
  :func:`nearest_rollback_descendants`).
* A ``forEach`` step is compensated item by item: every item that ended ``success`` is undone, even
  when another item of the same step failed (``saga/items.py`` reads the items).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import Any, Protocol

from airflow_provider_wfo.saga.items import item_values, items_of, mapped_task_ids, step_states
from airflow_provider_wfo.saga.names import FAILED, SUCCESS, resolver_task_id


class PlanStep(Protocol):
    """What the plan needs of a step (``definition.models.WorkflowStep`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def optional(self) -> bool: ...

    @property
    def rollback(self) -> object | None: ...

    @property
    def when(self) -> object | None: ...

    @property
    def for_each(self) -> str | None: ...


class PlanDefinition(Protocol):
    """What the plan needs of a definition (``definition.models.WorkflowDefinition`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def steps(self) -> Sequence[PlanStep]: ...

    @property
    def continue_on_optional_failure(self) -> bool: ...

    @property
    def rollback_on_failure(self) -> bool: ...


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
    #: Steps with a ``when`` condition.
    conditional: frozenset[str] = frozenset()
    #: ``forEach`` steps (a resolver task ``foreach.<id>`` plus a mapped task).
    mapped: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # Airflow stores str() of unknown objects passed to a mapped task's partial(); keep it short
        # (the full repr of a 5000-step plan would be megabytes in every serialized DAG).
        return f"SagaPlan({self.workflow_id!r}, {len(self.order)} steps)"

    @cached_property
    def skip_tolerant(self) -> frozenset[str]:
        """Steps that run when an upstream was skipped (``none_failed``): those right after a step
        with ``when`` or ``forEach``. Every other step keeps ``all_success``."""
        skippable = self.conditional | self.mapped
        if not skippable:
            return frozenset()
        return frozenset(s for s in self.order if any(u in skippable for u in self.upstream[s]))

    @cached_property
    def mapped_task_ids(self) -> frozenset[str]:
        """Task ids that have one task instance per item: forEach steps and their compensations."""
        return mapped_task_ids(self.mapped, self.rollback)

    @property
    def has_gate(self) -> bool:
        """A gate task exists only when something can be compensated; otherwise the result task
        decides too (N+1 tasks for N steps)."""
        return bool(self.rollback)

    @cached_property
    def is_chain(self) -> bool:
        """One root and every step waits for exactly the one before it: nothing ever runs beside a step."""
        if self.mapped:  # the items of a forEach step run beside each other
            return False
        roots = [s for s in self.order if not self.upstream[s]]
        return len(roots) == 1 and all(
            len(self.upstream[s]) == 1 and self.upstream[s][0] == prev for prev, s in pairwise(self.order)
        )

    @cached_property
    def guard_ids(self) -> tuple[str, ...]:
        """Forward steps whose failure stops new steps from starting (the abort check).

        Empty for a chain: a step there runs only when every step before it succeeded, and no step
        runs beside it, so there is no failure to find and the check's API request is saved."""
        if self.is_chain:
            return ()
        if self.continue_on_optional_failure:
            guarded = tuple(s for s in self.order if s not in self.optional)
        else:
            guarded = self.order
        # A forEach step fails in its resolver (a bad list) or in its items (the mapped task).
        return guarded + tuple(resolver_task_id(s) for s in guarded if s in self.mapped)

    @classmethod
    def observed(
        cls,
        workflow_id: str,
        order: Sequence[str],
        upstream: Mapping[str, Sequence[str]],
        rollback: Iterable[str],
        optional: Iterable[str] = (),
        mapped: Iterable[str] = (),
    ) -> SagaPlan:
        """The plan as a reader outside the worker sees it: from a stored DAG's tasks and the recorded
        outcomes (the definition's flags are not stored; the gate's recorded decision carries them)."""
        ids = set(order)
        return cls(
            workflow_id=workflow_id,
            order=tuple(order),
            upstream={s: tuple(u for u in upstream.get(s, ()) if u in ids) for s in order},
            optional=frozenset(optional),
            rollback=frozenset(rollback) & ids,
            compensation_upstream={},
            mapped=frozenset(mapped) & ids,
        )

    def ancestors(self, step_id: str) -> frozenset[str]:
        """Every step that must have succeeded before ``step_id`` could start (all_success)."""
        if self.is_chain:
            return frozenset(self.order[: self.order.index(step_id)])
        seen: set[str] = set()
        stack = list(self.upstream.get(step_id, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(self.upstream.get(node, ()))
        return frozenset(seen)


@dataclass(frozen=True)
class GateDecision:
    """What the gate (or, without rollbacks, the result task) concluded from the forward states."""

    failing: bool
    failed_step: str | None = None
    #: Steps whose compensation runs, in definition order.
    compensate: tuple[str, ...] = ()
    #: The failed steps that made the saga fail, in definition order.
    failed_steps: tuple[str, ...] = field(default=())
    #: True when a required step failed (so compensation was asked for, if rollbackOnFailure).
    required_failed: bool = False
    #: The failed step's error text, as its outcome recorded it.
    error: str | None = None

    def to_xcom(self) -> dict[str, object]:
        return {
            "failing": self.failing,
            "failedStep": self.failed_step,
            "failedSteps": list(self.failed_steps),
            "error": self.error,
            "compensate": list(self.compensate),
        }

    @classmethod
    def from_xcom(cls, raw: object) -> GateDecision | None:
        """The decision the gate pushed, or None when there is none (or it is not a decision)."""
        if not isinstance(raw, Mapping):
            return None
        error = raw.get("error")
        failed_step = raw.get("failedStep")
        return cls(
            failing=bool(raw.get("failing")),
            failed_step=str(failed_step) if failed_step else None,
            compensate=tuple(str(s) for s in raw.get("compensate") or ()),
            failed_steps=tuple(str(s) for s in raw.get("failedSteps") or ()),
            error=str(error) if error else None,
        )

    @classmethod
    def from_result(cls, raw: Mapping[str, Any]) -> GateDecision:
        """The decision a WorkflowResult payload implies (a workflow without gate, or a lost decision)."""
        status = str(raw.get("status") or "")
        failed_step = raw.get("failedStep")
        compensate = tuple(
            str(s.get("stepId"))
            for s in raw.get("steps") or ()
            if isinstance(s, Mapping) and s.get("rollback") and s.get("stepId")
        )
        return cls(
            failing=status not in ("COMPLETED", ""),
            failed_step=str(failed_step) if failed_step else None,
            compensate=compensate,
            error=_step_error(raw, failed_step),
        )


def _step_error(raw: Mapping[str, Any], step_id: object) -> str | None:
    for step in raw.get("steps") or ():
        if isinstance(step, Mapping) and step.get("stepId") == step_id and step.get("error"):
            return str(step["error"])
    return None


def _reverse_topological(upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """Steps so that every step comes after all of its downstream steps (definitions are acyclic:
    validation refuses cycles before a plan is built)."""
    downstream: dict[str, list[str]] = {s: [] for s in upstream}
    for step_id, parents in upstream.items():
        for parent in parents:
            downstream[parent].append(step_id)
    order: list[str] = []
    done: set[str] = set()
    for root in upstream:
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0 and node in done:
                continue
            children = downstream[node]
            if i < len(children):
                stack.append((node, i + 1))
                if children[i] not in done:
                    stack.append((children[i], 0))
            elif node not in done:
                done.add(node)
                order.append(node)
    return order


def nearest_rollback_descendants(
    upstream: Mapping[str, Sequence[str]], rollback: Iterable[str], pass_through: Iterable[str] = ()
) -> dict[str, tuple[str, ...]]:
    """For every step, the closest downstream steps with a rollback, looking through those without one.

    ``pass_through`` steps (``when``, ``forEach``) can end skipped, or with no item, while the steps
    after them complete; their compensation is then skipped at once by the gate, so a compensation
    waiting only for theirs would not wait for the later ones. Looking through them as well (their
    own compensation and the nearest ones beyond) keeps the reverse order.

    One pass in reverse topological order; each step's answer is built from its children's answers, so
    the cost is linear in steps + edges times the answer size (1 for a chain, bounded by the width of
    the DAG otherwise).
    """
    has_rollback = set(rollback)
    skippable = set(pass_through)
    downstream: dict[str, list[str]] = {s: [] for s in upstream}
    for step_id, parents in upstream.items():
        for parent in parents:
            downstream[parent].append(step_id)
    nearest: dict[str, tuple[str, ...]] = {}
    for step_id in _reverse_topological(upstream):
        found: dict[str, None] = {}
        for child in downstream[step_id]:
            if child in has_rollback:
                found[child] = None
            if child not in has_rollback or child in skippable:
                found.update(dict.fromkeys(nearest[child]))
        nearest[step_id] = tuple(found)
    return nearest


def build_plan(defn: PlanDefinition, upstream: Mapping[str, Sequence[str]]) -> SagaPlan:
    """The plan of ``defn`` whose forward edges are ``upstream`` (``definition.ordering.upstream_ids``)."""
    edges = {s: tuple(parents) for s, parents in upstream.items()}
    rollback = frozenset(s.id for s in defn.steps if s.rollback is not None)
    pass_through = [s.id for s in defn.steps if s.when is not None or s.for_each is not None]
    nearest = nearest_rollback_descendants(edges, rollback, pass_through) if rollback else {}
    return SagaPlan(
        workflow_id=defn.id,
        order=tuple(s.id for s in defn.steps),
        upstream=edges,
        optional=frozenset(s.id for s in defn.steps if s.optional),
        rollback=rollback,
        compensation_upstream={s: nearest[s] for s in edges if s in rollback},
        continue_on_optional_failure=defn.continue_on_optional_failure,
        rollback_on_failure=defn.rollback_on_failure,
        conditional=frozenset(s.id for s in defn.steps if s.when is not None),
        mapped=frozenset(s.id for s in defn.steps if s.for_each is not None),
    )


def decide(plan: SagaPlan, raw_states: Mapping[str, str | None], error: str | None = None) -> GateDecision:
    """The gate's decision from the final states of the forward tasks (``get_task_states`` keys: a
    forEach step's items as ``<id>_<index>``, see ``saga/items.py``)."""
    completed_items: set[str] = set()
    if plan.mapped:
        items = items_of(plan.mapped_task_ids, raw_states)
        states = step_states(plan.order, plan.mapped, raw_states, items)
        completed_items = {s for s in plan.mapped if SUCCESS in item_values(items, s, raw_states).values()}
    else:
        states = dict(raw_states)
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
        compensate = tuple(
            s
            for s in plan.order
            # A forEach step is undone item by item: only when some item completed.
            if s in plan.rollback and (s in completed_items if s in plan.mapped else states.get(s) == SUCCESS)
        )
    first_required = next((s for s in counted if s not in plan.optional), counted[0])
    return GateDecision(
        failing=True,
        failed_step=first_required,
        compensate=compensate,
        failed_steps=tuple(counted),
        required_failed=required_failed,
        error=error,
    )
