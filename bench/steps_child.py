"""Step overhead, in one process against a migrated SQLite AIRFLOW_HOME:
``python -m bench.steps_child DAGS_FOLDER ROUNDS`` (the environment is set by bench/steps.py).

Runs ``dag.test()`` on the generated 20-step workflow, the hand-written DAG of 20 ``@task`` functions
and a one-``@task`` DAG (the fixed cost of a ``dag.test`` run), once each to warm up, then ROUNDS
rounds in the same order each round. Prints one JSON line with every run's wall time and the
task-instance durations Airflow recorded.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

DAG_IDS = ("bench_steps_wfo", "bench_steps_hand", "bench_steps_base")


def task_times(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.task_id, TaskInstance.state, TaskInstance.start_date, TaskInstance.end_date
            ).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
    tasks = {}
    for task_id, state, start, end in rows:
        duration = (end - start).total_seconds() if start and end else None
        tasks[task_id] = {"state": str(getattr(state, "value", state)), "duration_s": duration}
    starts = [r[2] for r in rows if r[2]]
    ends = [r[3] for r in rows if r[3]]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    return {"tasks": tasks, "span_s": span}


def profile(dag: Any, out: str) -> int:
    """One warm-up run, then one run of the generated DAG under cProfile."""
    import cProfile

    dag.test()
    profiler = cProfile.Profile()
    profiler.enable()
    dag_run = dag.test()
    profiler.disable()
    profiler.dump_stats(out)
    print(json.dumps({"state": str(getattr(dag_run.state, "value", dag_run.state))}))
    return 0


def main(argv: list[str]) -> int:
    folder, rounds = argv[0], int(argv[1])
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag

    if settings.Session is None:
        settings.configure_orm()
    bag = DagBag(dag_folder=folder, safe_mode=True)
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    dags = {dag_id: bag.dags[dag_id] for dag_id in DAG_IDS}
    if "--profile" in argv:
        return profile(dags[DAG_IDS[0]], argv[argv.index("--profile") + 1])
    runs: dict[str, list[dict[str, Any]]] = {dag_id: [] for dag_id in DAG_IDS}
    for rnd in range(rounds + 1):
        for dag_id in DAG_IDS:
            t0, c0 = time.perf_counter(), time.process_time()
            dag_run = dags[dag_id].test()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            state = str(getattr(dag_run.state, "value", dag_run.state))
            record = {
                "wall_s": wall,
                "cpu_s": cpu,
                "state": state,
                "warmup": rnd == 0,
                **task_times(dag_id, dag_run.run_id),
            }
            runs[dag_id].append(record)
            print(
                f"# round {rnd} {dag_id}: {wall:.2f} s ({cpu:.2f} s CPU) {state}", file=sys.stderr, flush=True
            )
            if state != "success":
                raise SystemExit(f"{dag_id} ended {state}: {record['tasks']}")
    print(json.dumps({"runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
