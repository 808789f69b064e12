"""The saga's outcome as the DagRun's note, where the Airflow UI shows it (run header, grid tooltip).

A task cannot set its run's note (the task-sdk has no request for it), so the listener does, in the
process that ends the run: the scheduler (the dag-run hooks run there, inside the scheduler's own
transaction, so the note is committed with the run's final state), or the calling process under
``dag.test``. A note someone already wrote is kept: the outcome is added below it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

#: ``dag_run_note.content`` is a String(1000).
MAX_NOTE = 1000
MARKER = "wfo:"


def note_text(result: Mapping[str, Any], status: str) -> str:
    """``wfo: ROLLED_BACK - step 'b' failed: ActionError: ...; 1/3 completed, 1 failed, 1 rolled back``."""
    parts = [f"{MARKER} {status}"]
    error = result.get("error")
    if error:
        parts.append(f" - {error}")
    progress = result.get("progress")
    steps = [s for s in result.get("steps") or () if isinstance(s, Mapping)]
    if isinstance(progress, Mapping):
        counts = f"{progress.get('completedSteps')}/{progress.get('totalSteps')} completed"
        if progress.get("failedSteps"):
            counts += f", {progress.get('failedSteps')} failed"
        undone = sum(1 for s in steps if s.get("status") == "ROLLED_BACK")
        if undone:
            counts += f", {undone} rolled back"
        not_undone = [str(s.get("stepId")) for s in steps if s.get("status") == "ROLLBACK_FAILED"]
        if not_undone:
            counts += f"; NOT undone: {', '.join(not_undone)}"
        parts.append(f"; {counts}")
    return "".join(parts)


def _combined(current: str | None, text: str) -> str:
    kept = "" if not current or current.startswith(MARKER) else current
    return (f"{kept}\n{text}" if kept else text)[:MAX_NOTE]


def set_run_note(dag_run: Any, text: str) -> None:
    """Write ``text`` as the run's note (under a note a person wrote; replacing an older wfo note)."""
    from sqlalchemy.orm import object_session

    if object_session(dag_run) is not None:
        # Committed with the caller's transaction (the scheduler's).
        dag_run.note = _combined(dag_run.note, text)
        return
    # A detached run object (dag.test hands one over): write through a session of our own.
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        attached = session.scalar(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        )
        if attached is not None:
            attached.note = _combined(attached.note, text)
