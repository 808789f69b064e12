"""The ordering rule, implemented once for validation, the DAG factory and the saga plan.

A step with no ``dependsOn`` runs after the step listed before it (the seed's sequential engine);
a step with ``dependsOn`` runs after exactly those steps; ``dependsOn: []`` makes a root.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol


class Orderable(Protocol):
    """What the ordering rule reads of a step (a WorkflowStep, or a light stand-in for raw JSON)."""

    @property
    def id(self) -> str: ...

    @property
    def depends_on(self) -> list[str] | None: ...


def upstream_ids(steps: Sequence[Orderable]) -> dict[str, tuple[str, ...]]:
    """Each step id mapped to the ids it waits for, in definition order."""
    upstream: dict[str, tuple[str, ...]] = {}
    previous: str | None = None
    for step in steps:
        if step.depends_on is None:
            upstream[step.id] = (previous,) if previous is not None else ()
        else:
            upstream[step.id] = tuple(dict.fromkeys(step.depends_on))
        previous = step.id
    return upstream


def downstream_ids(upstream: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    downstream: dict[str, list[str]] = {step_id: [] for step_id in upstream}
    for step_id, parents in upstream.items():
        for parent in parents:
            if parent in downstream:
                downstream[parent].append(step_id)
    return downstream


def find_cycle(upstream: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as a path ``[a, b, ..., a]``, or None. Iterative: 10,000 steps must not recurse."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(upstream, white)
    for root in upstream:
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        colour[root] = grey
        path = [root]
        while stack:
            node, index = stack[-1]
            parents = upstream.get(node, ())
            if index < len(parents):
                stack[-1] = (node, index + 1)
                parent = parents[index]
                if parent not in colour:
                    continue
                if colour[parent] == grey:
                    start = path.index(parent)
                    # Edges point from a step to what it waits for; report in run order.
                    cycle = [*path[start:], parent]
                    return list(reversed(cycle))
                if colour[parent] == white:
                    colour[parent] = grey
                    stack.append((parent, 0))
                    path.append(parent)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def topological_order(upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's algorithm keeping definition order among ready steps. Assumes no cycle."""
    remaining = {step_id: sum(1 for p in parents if p in upstream) for step_id, parents in upstream.items()}
    downstream = downstream_ids(upstream)
    order: list[str] = []
    ready = deque(step_id for step_id, count in remaining.items() if count == 0)
    while ready:
        step_id = ready.popleft()
        order.append(step_id)
        for child in downstream[step_id]:
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    return order


def ancestors(upstream: Mapping[str, Sequence[str]], step_id: str) -> set[str]:
    seen: set[str] = set()
    stack = list(upstream.get(step_id, ()))
    while stack:
        node = stack.pop()
        if node in seen or node not in upstream:
            continue
        seen.add(node)
        stack.extend(upstream[node])
    return seen
