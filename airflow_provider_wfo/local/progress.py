"""Watch a local run from the metadata DB: which steps finished, which task runs now.

``dag.test`` runs the tasks in the calling thread, so the watcher polls task-instance states from a
background thread (its own DB session) and hands :class:`Snapshot` objects to a callback. Polling is
simple and robust: it needs no hook into the run and survives any error by trying again. The step
counts come from ``saga.status.derive``, the rules the result task applies.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_wfo.results import StepStatus
from airflow_provider_wfo.saga.facts import TaskFacts
from airflow_provider_wfo.saga.names import (
    ACTIVE_STATES,
    FINISHED_STATES,
    GATE_TASK_ID,
    OUTCOME_KEY,
    RESULT_TASK_ID,
    WAITING_KEY,
    is_compensation_task_id,
    item_key,
)
from airflow_provider_wfo.saga.notes import state_note
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.records import parse_outcome, parse_waiting
from airflow_provider_wfo.saga.status import derive


@dataclass(frozen=True)
class Snapshot:
    total_steps: int
    finished_steps: int
    failed_steps: int
    running: tuple[str, ...] = ()
    phase: str = "forward"  # forward | deciding | compensating | result | done
    states: dict[str, str | None] = field(default_factory=dict)
    #: step id -> its note (``saga/notes.py``): a skip's reason, items done, what it waits for.
    notes: dict[str, str] = field(default_factory=dict)


def _phase(plan: SagaPlan, states: dict[str, str | None], running: tuple[str, ...]) -> str:
    if any(is_compensation_task_id(t) for t in running):
        return "compensating"
    if GATE_TASK_ID in running:
        return "deciding"
    if RESULT_TASK_ID in running:
        return "result"
    if states.get(RESULT_TASK_ID) in FINISHED_STATES:
        return "done"
    if plan.order and all(states.get(s) in FINISHED_STATES for s in plan.order):
        return "deciding"
    return "forward"


def summarize(
    plan: SagaPlan,
    states: dict[str, str | None],
    xcoms: Mapping[tuple[str, str], Any] | None = None,
) -> Snapshot:
    """``xcoms``: (task key, XCom key) -> value of the run's ``wfo_outcome`` / ``wfo_waiting`` records,
    when read, for the notes."""
    xcoms = xcoms or {}
    facts = {
        t: TaskFacts(
            state=s,
            outcome=parse_outcome(xcoms.get((t, OUTCOME_KEY))),
            waiting=parse_waiting(xcoms.get((t, WAITING_KEY))),
        )
        for t, s in states.items()
    }
    run = derive(plan, facts, final=False)
    finished = sum(1 for s in run.steps if s.status not in (StepStatus.PENDING, StepStatus.RUNNING))
    failed = run.progress.failed_steps
    running = tuple(t for t, state in states.items() if state in ACTIVE_STATES and state != "scheduled")
    notes = {s.step_id: note for s in run.steps if (note := state_note(s))}
    return Snapshot(
        len(plan.order), finished, failed, running, _phase(plan, states, running), dict(states), notes
    )


def prepare_main_thread() -> None:
    """Import and configure Airflow's ORM in the calling (main) thread before a watcher starts.

    Otherwise the watcher's first query makes SQLAlchemy import every model (``import_all_models``)
    while the main thread is importing the same modules for ``dag.test``: an import-lock deadlock.
    """
    import airflow.dag_processing.dagbag
    import airflow.serialization.serialized_objects  # noqa: F401
    from airflow.models import import_all_models
    from sqlalchemy.orm import configure_mappers

    import_all_models()  # type: ignore[no-untyped-call]
    configure_mappers()


def _key(task_id: str, map_index: int | None) -> str:
    """A task's key in the states: ``<task>_<index>`` for an item of a mapped task (``saga/items.py``)."""
    return item_key(task_id, map_index) if map_index is not None and map_index >= 0 else task_id


class _Row:
    """``XComModel.deserialize_value`` reads ``.value``."""

    def __init__(self, value: Any) -> None:
        self.value = value


class RunWatcher(threading.Thread):
    """Polls the newest run of ``dag_id`` created at or after ``since`` until :meth:`stop`."""

    def __init__(
        self,
        dag_id: str,
        plan: SagaPlan,
        since: datetime,
        on_snapshot: Callable[[Snapshot], None],
        interval: float = 0.25,
    ) -> None:
        super().__init__(name=f"wfo-watch-{dag_id}", daemon=True)
        self.dag_id = dag_id
        self.plan = plan
        self.since = since
        self.on_snapshot = on_snapshot
        self.interval = interval
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def poll(self) -> Snapshot | None:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            run_id = session.scalar(
                select(DagRun.run_id)
                .where(DagRun.dag_id == self.dag_id, DagRun.run_after >= self.since)
                .order_by(DagRun.id.desc())
                .limit(1)
            )
            if run_id is None:
                return None
            rows = session.execute(
                select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
                    TaskInstance.dag_id == self.dag_id, TaskInstance.run_id == run_id
                )
            ).all()
            records = session.execute(
                select(XComModel.task_id, XComModel.map_index, XComModel.key, XComModel.value).where(
                    XComModel.dag_id == self.dag_id,
                    XComModel.run_id == run_id,
                    XComModel.key.in_([OUTCOME_KEY, WAITING_KEY]),
                )
            ).all()
        states = {
            _key(task_id, index): (str(getattr(state, "value", state)) if state else None)
            for task_id, index, state in rows
        }
        xcoms = {
            (_key(task_id, index), key): XComModel.deserialize_value(_Row(value))
            for task_id, index, key, value in records
        }
        return summarize(self.plan, states, xcoms)

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                snapshot = self.poll()
            except Exception:  # a locked SQLite file or a half-created run: try again
                snapshot = None
            if snapshot is not None:
                # a display problem must never break the run it watches
                with contextlib.suppress(Exception):
                    self.on_snapshot(snapshot)
            self._stop_event.wait(self.interval)
