"""``python -m airflow_provider_wfo.local.child_run DAG_ID RUN_ID``: run a sub-workflow's run with
``dag.test`` on the embedded default.

A ``workflow.run`` step under ``dag.test`` starts this (``operators/subworkflow.py``): with no scheduler,
the run that ``TriggerDagRunOperator`` created would stay queued. This process waits until that run
exists, then runs the child's DAG with ``dag.test`` at the run's logical date: ``dag.test`` replaces the
queued run by one of the same logical date and run id, carrying the same conf, and runs it to the end,
while the parent's trigger watches that run id as it would on a deployment.

If anything goes wrong here the run is marked failed, so the parent step fails instead of waiting.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

#: How long the triggered run may take to appear (the parent triggers it right after starting us).
APPEAR_SECONDS = 120.0


def _queued_run(dag_id: str, run_id: str) -> tuple[datetime, dict[str, Any]] | None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None or run.logical_date is None:
            return None
        return run.logical_date, dict(run.conf or {})


def _mark_failed(dag_id: str, run_id: str) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import update

    with create_session() as session:
        session.execute(
            update(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
            .values(state=DagRunState.FAILED)
        )


def _definition(dag_id: str) -> Any:
    from airflow import settings

    from airflow_provider_wfo.definition.files import definition_files
    from airflow_provider_wfo.definition.loading import load_workflow_from_json

    for path in definition_files(settings.DAGS_FOLDER):
        try:
            defn = load_workflow_from_json(path)
        except Exception:  # noqa: S112 - the loader reports broken files; we look for one id
            continue
        if defn.id == dag_id:
            return defn
    raise LookupError(f"no workflow definition with id {dag_id!r} under {settings.DAGS_FOLDER}")


def run_child(dag_id: str, run_id: str) -> str:
    """Run the triggered run ``run_id`` of ``dag_id``; returns its final state."""
    from airflow import settings

    from airflow_provider_wfo.local.answers import answers_from_env
    from airflow_provider_wfo.local.runner import run_workflow

    if settings.Session is None:
        settings.configure_orm()  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + APPEAR_SECONDS
    found = _queued_run(dag_id, run_id)
    while found is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} of {dag_id} was never created")
        time.sleep(0.2)
        found = _queued_run(dag_id, run_id)
    logical_date, conf = found
    outcome = run_workflow(_definition(dag_id), conf, logical_date=logical_date, answers=answers_from_env())
    if outcome.run_id != run_id:  # pragma: no cover - dag.test changed how it names runs
        raise RuntimeError(f"dag.test named the run {outcome.run_id!r}, not {run_id!r}")
    return outcome.dag_run_state


def main(argv: list[str]) -> int:
    dag_id, run_id = argv
    try:
        state = run_child(dag_id, run_id)
    except BaseException:
        _mark_failed(dag_id, run_id)
        raise
    print(f"sub-workflow {dag_id} run {run_id}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
