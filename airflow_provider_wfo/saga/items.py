"""The items of ``forEach`` steps in a run's task states: which keys are items, and what a mapped
step's state is as a whole.

Airflow names a mapped task instance ``<task id>_<map index>`` in ``get_task_states``
(:func:`~airflow_provider_wfo.saga.names.item_key`); a mapped task that was never expanded, or was
expanded to zero items, keeps its plain key. Every reader uses those keys, so the rules below are the
same for the gate, the result task, the trace and the workflow view.

A forEach step ``S``, as one state (:func:`step_state`):

* its resolver ``foreach.S`` did not succeed: the resolver's state (``failed`` -- a bad or too long
  list --, ``skipped`` -- condition false or saga aborted --, ``upstream_failed``, or not finished);
* the resolver succeeded with an empty list: ``success`` (the mapped task is ``skipped``, zero items);
* otherwise from the items: any ``failed`` -> ``failed``; any not finished -> that state; all
  ``success`` -> ``success``; the rest (some items skipped by "saga aborted") -> ``skipped``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from airflow_provider_wfo.saga.names import (
    FAILED,
    FINISHED_STATES,
    SKIPPED,
    SUCCESS,
    UPSTREAM_FAILED,
    compensation_task_id,
    resolver_task_id,
)

V = TypeVar("V")

__all__ = ["item_values", "items_of", "mapped_task_ids", "step_state", "step_states"]


def mapped_task_ids(mapped: Iterable[str], rollback: Collection[str]) -> frozenset[str]:
    """The mapped task ids of forEach steps: the steps themselves and their compensations."""
    ids: set[str] = set()
    for step_id in mapped:
        ids.add(step_id)
        if step_id in rollback:
            ids.add(compensation_task_id(step_id))
    return frozenset(ids)


def items_of(mapped_ids: Collection[str], keys: Iterable[str]) -> dict[str, dict[int, str]]:
    """``{mapped task id: {map index: key}}`` for every key that names an item of a mapped task."""
    found: dict[str, dict[int, str]] = {}
    if not mapped_ids:
        return found
    for key in keys:
        base, sep, index = key.rpartition("_")
        if sep and base in mapped_ids and index.isdigit():
            found.setdefault(base, {})[int(index)] = key
    return found


def item_values(
    items: Mapping[str, Mapping[int, str]], task_id: str, values: Mapping[str, V]
) -> dict[int, V]:
    """``{map index: values[key]}`` for the items of one mapped task, in map-index order."""
    keys = items.get(task_id, {})
    return {index: values[keys[index]] for index in sorted(keys)}


def step_state(resolver: str | None, plain: str | None, item_states: Iterable[str | None]) -> str | None:
    """A forEach step's state as a whole (see the module doc)."""
    if resolver != SUCCESS:
        return resolver
    states = list(item_states)
    if not states:
        # Zero items: Airflow marks the unexpanded task skipped; before that it is not done yet.
        return SUCCESS if plain in (SKIPPED, SUCCESS) else plain
    if FAILED in states:
        return FAILED
    unfinished = [s for s in states if s not in FINISHED_STATES]
    if unfinished:
        return unfinished[0]
    if all(s == SUCCESS for s in states):
        return SUCCESS
    return UPSTREAM_FAILED if UPSTREAM_FAILED in states and SKIPPED not in states else SKIPPED


def step_states(
    order: Iterable[str],
    mapped: Collection[str],
    states: Mapping[str, str | None],
    items: Mapping[str, Mapping[int, str]] | None = None,
) -> dict[str, str | None]:
    """Every step's state as a whole, from a run's task states (mapped steps collapsed)."""
    if items is None:
        items = items_of(frozenset(mapped), states)
    out: dict[str, str | None] = {}
    for step_id in order:
        if step_id in mapped:
            out[step_id] = step_state(
                states.get(resolver_task_id(step_id)),
                states.get(step_id),
                item_values(items, step_id, states).values(),
            )
        else:
            out[step_id] = states.get(step_id)
    return out
