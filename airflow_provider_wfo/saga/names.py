"""Every name the saga gives to Airflow objects, defined once.

Task ids: a forward step's task id is its step id; its compensation is ``compensate.<step id>``
inside the TaskGroup ``compensate``; the gate is ``saga_decision`` (only in a workflow with at least
one rollback); the result task is ``workflow_result`` (always; in a workflow without rollback it
also makes the gate's decision, so such a workflow runs N+1 tasks).

A ``forEach`` step ``S`` has a resolver task ``foreach.<S>`` (in the TaskGroup ``foreach``: it checks
``when`` and returns the list) and a mapped task ``S`` with one task instance per item; its
compensation ``compensate.<S>`` is mapped over the same list. Airflow's ``get_task_states`` keys a
mapped task instance as ``<task id>_<map index>`` (:func:`item_key`); every reader of a run uses the
same keys, which is why validation refuses a step id such as ``book_1`` beside a forEach step ``book``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

GATE_TASK_ID = "saga_decision"
RESULT_TASK_ID = "workflow_result"
COMPENSATE_GROUP = "compensate"
COMPENSATE_PREFIX = f"{COMPENSATE_GROUP}."
FOREACH_GROUP = "foreach"
FOREACH_PREFIX = f"{FOREACH_GROUP}."
#: Tag on every generated DAG: how the listener, the UI and the index recognise a workflow.
WFO_TAG = "wfo"

#: XCom key of the record each attempt of a step or compensation leaves (see :mod:`.records`).
OUTCOME_KEY = "wfo_outcome"
#: XCom key of what a waiting step waits for, pushed before it defers or asks (see :mod:`.records`).
WAITING_KEY = "wfo_waiting"
#: Airflow's own key: a step's action result, the gate's decision, the WorkflowResult.
RETURN_KEY = "return_value"
#: ``dag.test`` names the runs it creates after this user (``DagRun.triggering_user_name``).
DAG_TEST_USER = "dag_test"

#: Step ids the DAG factory uses for its own tasks (validation refuses them).
RESERVED_STEP_IDS: Mapping[str, str] = {
    GATE_TASK_ID: "the saga gate task",
    RESULT_TASK_ID: "the result task",
    COMPENSATE_GROUP: "the task group of the compensations",
    FOREACH_GROUP: "the task group of the forEach list resolvers",
}

#: Scope names only compensations see.
ERROR_NAME = "error"
FAILED_STEP_NAME = "failedStep"
#: Built-in name in every step and compensation scope; wins over a run-conf key of the same name.
RUN_NAME = "run"
#: Scope names inside a forEach step's params and rollback: the item and its position (0-based).
ITEM_NAME = "item"
INDEX_NAME = "index"
ITEM_SCOPE_NAMES: Mapping[str, str] = {
    ITEM_NAME: "the current item of the forEach list",
    INDEX_NAME: "the current item's position in the forEach list (0-based)",
}
#: Why a step whose condition is false did not run (its outcome's ``reason`` and the skip message).
CONDITION_FALSE = "condition false"
RESERVED_SCOPE_NAMES: Mapping[str, str] = {
    ERROR_NAME: "the failed step's error text",
    FAILED_STEP_NAME: "the failed step's id",
}

#: Airflow task-instance states, as strings (no Airflow import here).
SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"
UPSTREAM_FAILED = "upstream_failed"
REMOVED = "removed"
UP_FOR_RETRY = "up_for_retry"
#: States after which a task instance does not run again in this run (unless cleared).
FINISHED_STATES = frozenset({SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED})
#: States of a task that Airflow is working on (or about to).
ACTIVE_STATES = frozenset(
    {
        "running",
        "queued",
        "scheduled",
        UP_FOR_RETRY,
        "up_for_reschedule",
        "restarting",
        "deferred",
        "awaiting_input",
    }
)
#: States of a task that waits outside any worker: on the triggerer, or for a person's answer.
WAITING_STATES = frozenset({"deferred", "awaiting_input"})


class Phase(str, Enum):
    """Which side of the saga a task belongs to."""

    FORWARD = "forward"
    ROLLBACK = "rollback"


def compensation_task_id(step_id: str) -> str:
    return f"{COMPENSATE_PREFIX}{step_id}"


def is_compensation_task_id(task_id: str) -> bool:
    return task_id.startswith(COMPENSATE_PREFIX)


def resolver_task_id(step_id: str) -> str:
    """The task that checks a forEach step's ``when`` and returns its list."""
    return f"{FOREACH_PREFIX}{step_id}"


def is_resolver_task_id(task_id: str) -> bool:
    return task_id.startswith(FOREACH_PREFIX)


def item_key(task_id: str, index: int) -> str:
    """How ``get_task_states`` (and so every reader) names one task instance of a mapped task."""
    return f"{task_id}_{index}"


def is_forward_task_id(task_id: str) -> bool:
    """True for a forward step's task (anything that is not the gate, the result, a compensation or a
    forEach resolver)."""
    return (
        task_id not in (GATE_TASK_ID, RESULT_TASK_ID)
        and not is_compensation_task_id(task_id)
        and not is_resolver_task_id(task_id)
    )


def step_id_of(task_id: str) -> str:
    """The step a forward, resolver or compensation task belongs to."""
    if is_compensation_task_id(task_id):
        return task_id[len(COMPENSATE_PREFIX) :]
    if is_resolver_task_id(task_id):
        return task_id[len(FOREACH_PREFIX) :]
    return task_id


def phase_of(task_id: str) -> Phase | None:
    """FORWARD, ROLLBACK, or None for the gate and the result task."""
    if is_compensation_task_id(task_id):
        return Phase.ROLLBACK
    if is_resolver_task_id(task_id):
        return Phase.FORWARD
    return Phase.FORWARD if is_forward_task_id(task_id) else None


def is_wfo_dag(tags: Iterable[object] | None, task_ids: Iterable[str] | None = None) -> bool:
    """A DAG built by the factory: tagged ``wfo``, or (tags lost) holding the result task."""
    if WFO_TAG in {str(t) for t in (tags or ())}:
        return True
    return RESULT_TASK_ID in set(task_ids or ())
