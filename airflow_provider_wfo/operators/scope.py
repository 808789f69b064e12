"""The scope a step's ``when``, ``forEach`` and params are resolved in: run conf, ``$run``, and the
results of the steps they reference.

What a referenced step gives:

* a completed step: its result (XCom ``return_value``);
* a skipped step (its outcome says ``skipped``: ``when`` false, saga aborted):
  :data:`~airflow_provider_wfo.definition.references.SKIPPED_RESULT`, so ``$step`` and
  ``$step.any.path`` give null;
* a ``forEach`` step: the list of its item results in item order (``[]`` for an empty list), read in
  one request (:func:`mapped_results`); skipped as a whole (its resolver skipped): as above.

A step that has neither a result nor a skipped outcome stays out of the scope, so the reference
fails with "unknown reference" as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_wfo.definition.references import SKIPPED_RESULT
from airflow_provider_wfo.operators.outcome import referenced_step_ids, run_builtin, run_scope
from airflow_provider_wfo.saga.names import OUTCOME_KEY, RETURN_KEY, RUN_NAME, SKIPPED, resolver_task_id
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.records import parse_outcome

__all__ = ["mapped_results", "step_scope"]


def _skipped(ti: Any, task_id: str) -> bool:
    outcome = parse_outcome(ti.xcom_pull(task_ids=task_id, key=OUTCOME_KEY))
    return outcome is not None and outcome.status == SKIPPED


def mapped_results(ti: Any, step_id: str, indexes: Sequence[int]) -> list[Any]:
    """The ``return_value`` of the items ``indexes`` (all completed) of mapped task ``step_id``.

    One request reads every item's value, in map-index order (``XCom.get_all``, what
    ``xcom_pull`` does without ``map_indexes``); only when the count does not match the completed
    items (a value is missing) does it fall back to one request per item, aligned by index."""
    if not indexes:
        return []
    values = ti.xcom_pull(task_ids=step_id, key=RETURN_KEY)
    # Item results are JSON objects: one comes back unwrapped, several as a list of them.
    listed = [values] if isinstance(values, Mapping) else values if isinstance(values, list) else []
    if len(listed) == len(indexes) and all(isinstance(v, Mapping) for v in listed):
        return list(listed)
    return [ti.xcom_pull(task_ids=step_id, key=RETURN_KEY, map_indexes=i) for i in indexes]


def step_result(ti: Any, plan: SagaPlan, step_id: str) -> Any:
    """What ``$step_id`` gives (see the module doc), or None when it has nothing to give."""
    if step_id in plan.mapped:
        items = ti.xcom_pull(task_ids=resolver_task_id(step_id), key=RETURN_KEY)
        if items is None:
            return SKIPPED_RESULT if _skipped(ti, resolver_task_id(step_id)) else None
        if not isinstance(items, list):
            return None
        return mapped_results(ti, step_id, range(len(items)))
    value = ti.xcom_pull(task_ids=step_id, key=RETURN_KEY)
    if value is None and _skipped(ti, step_id):
        return SKIPPED_RESULT
    return value


def step_scope(
    context: Mapping[str, Any], plan: SagaPlan, values: Iterable[Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Run conf, the referenced steps' results, then ``extra`` and ``$run`` (which win)."""
    ti = context["ti"]
    scope = run_scope(context)
    names = [*scope, *extra, RUN_NAME]
    wanted: dict[str, None] = {}
    for value in values:
        wanted.update(dict.fromkeys(referenced_step_ids(value, plan.order, names)))
    for step_id in wanted:
        if step_id in extra:
            continue  # a compensation's own item result, given directly
        result = step_result(ti, plan, step_id)
        if result is not None:
            scope[step_id] = result
    scope.update(extra)
    scope[RUN_NAME] = run_builtin(context)
    return scope
