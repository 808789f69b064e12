"""Dependencies and cycles, and whether each referenced step runs before the step that reads it.

Whether a step may read another step's result is decided by the ordering rule of
:mod:`~airflow_provider_wfo.definition.ordering`, with ancestor sets kept as bitsets over the
referenced steps only, freed as soon as no later step needs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import NamedTuple

from airflow_provider_wfo.definition import ordering
from airflow_provider_wfo.definition.checks.context import Context, as_str
from airflow_provider_wfo.definition.checks.refs import StepRef
from airflow_provider_wfo.definition.errors import suggestion

__all__ = ["check_cycles", "check_dependencies", "check_order"]

#: Each cycle found loses one edge; report a handful, not thousands.
_MAX_CYCLES = 20


class _Shell(NamedTuple):
    """A step as the ordering rule sees it, built from raw JSON."""

    id: str
    depends_on: list[str] | None


def check_dependencies(ctx: Context) -> dict[str, tuple[str, ...]]:
    """Dangling and self dependencies; returns the upstream map of the ordering rule."""
    shells: list[_Shell] = []
    for i, step in ctx.steps:
        sid = as_str(step.get("id"))
        if sid is None or ctx.index.get(sid) != i:
            continue
        raw = step.get("dependsOn")
        deps: list[str] | None = None
        if isinstance(raw, list):
            deps = []
            for k, dep in enumerate(raw):
                if not isinstance(dep, str):
                    continue
                where = f"steps[{i}].dependsOn[{k}]"
                if dep == sid:
                    ctx.add(where, f"step {sid!r} depends on itself")
                elif dep not in ctx.index:
                    others = (other for other in ctx.index if other != sid)
                    ctx.add(where, f"unknown step {dep!r}{suggestion(dep, others)}")
                else:
                    deps.append(dep)
        shells.append(_Shell(sid, deps))
    return ordering.upstream_ids(shells)


def check_cycles(ctx: Context, upstream: Mapping[str, tuple[str, ...]]) -> bool:
    """Report up to a handful of cycles, each at the dependency that closes it; True if any."""
    edges = {sid: list(parents) for sid, parents in upstream.items()}
    found = False
    for _ in range(_MAX_CYCLES):
        cycle = ordering.find_cycle(edges)
        if cycle is None:
            break
        found = True
        # cycle is in run order: cycle[j] runs before cycle[j+1], i.e. cycle[j+1] waits for cycle[j].
        culprit: tuple[str, str] | None = None
        for before, after in itertools.pairwise(cycle):
            if ctx.index[before] >= ctx.index[after]:  # waits for a later step (or itself)
                culprit = (after, before)
                break
        waiter, waited = culprit or (cycle[1], cycle[0])
        raw = ctx.step_data(waiter).get("dependsOn")
        position = raw.index(waited) if isinstance(raw, list) and waited in raw else None
        where = f"steps[{ctx.index[waiter]}].dependsOn" + (f"[{position}]" if position is not None else "")
        implicit = any(not isinstance(ctx.step_data(after).get("dependsOn"), list) for after in cycle[1:])
        note = " (a step without dependsOn waits for the step listed before it)" if implicit else ""
        shown = cycle if len(cycle) <= 12 else [*cycle[:6], f"... {len(cycle) - 10} more ...", *cycle[-4:]]
        ctx.add(where, f"circular dependency: {' -> '.join(shown)}{note}")
        if waited in edges[waiter]:
            edges[waiter].remove(waited)
        else:  # pragma: no cover - find_cycle only reports existing edges
            break
    return found


def check_order(ctx: Context, upstream: Mapping[str, tuple[str, ...]], refs: list[StepRef]) -> None:
    """Each referenced step must be an ancestor of the referring step under the ordering rule.

    Ancestor sets are bitsets over the referenced steps only, built in topological order and
    dropped once every dependent has read them: linear in practice, bounded memory.
    """
    pending = [r for r in refs if r.target not in upstream.get(r.step, ())]
    if not pending:
        return
    bit = {target: n for n, target in enumerate(dict.fromkeys(r.target for r in pending))}
    by_step: dict[str, list[StepRef]] = {}
    for r in pending:
        by_step.setdefault(r.step, []).append(r)
    downstream = ordering.downstream_ids(upstream)
    remaining = {sid: len(children) for sid, children in downstream.items()}
    ancestors: dict[str, int] = {}
    for sid in ordering.topological_order(upstream):
        bits = 0
        for parent in upstream[sid]:
            bits |= ancestors.get(parent, 0)
            if parent in bit:
                bits |= 1 << bit[parent]
            remaining[parent] -= 1
            if remaining[parent] == 0:
                ancestors.pop(parent, None)
        for r in by_step.get(sid, ()):
            if not (bits >> bit[r.target]) & 1:
                _not_upstream(ctx, r)
        if remaining[sid]:
            ancestors[sid] = bits


def _not_upstream(ctx: Context, r: StepRef) -> None:
    if r.rollback:
        ctx.add(
            r.location,
            f"{r.text!r}: the rollback of {r.step!r} reads step {r.target!r}, which is neither "
            f"{r.step!r} nor upstream of it; when {r.step!r} is undone, {r.target!r} may never have "
            "run. A rollback may read its own step's result, an upstream step's, $error and $failedStep",
        )
        return
    later = ctx.index.get(r.target, -1) > ctx.index.get(r.step, -1)
    fix = (
        f"move {r.target!r} above {r.step!r}, or add it to the dependsOn of {r.step!r}"
        if later
        else f"add {r.target!r} to the dependsOn of {r.step!r}"
    )
    ctx.add(
        r.location,
        f"{r.text!r}: step {r.target!r} is not upstream of {r.step!r} under the ordering rule"
        f"{' (it is listed later)' if later else ''}, so its result may not exist yet when "
        f"{r.step!r} runs; {fix}",
    )
