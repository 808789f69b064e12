"""One measured parse, in a fresh interpreter: ``python -m bench.parse_child SIDE FOLDER [--profile OUT]``.

Prints one JSON line: seconds for importing Airflow itself (common to every side, not compared), for
importing the side's own library (the provider, the standard provider's operators, dag-factory), for
``DagBag(folder)`` with that library already imported (the per-definition cost), and for serializing
the DAGs the way the dag-processor stores them (``--warm FOLDER``: parse a one-definition folder of the
same side first and count it as import); plus counts of DAGs, tasks and import errors.
"""

from __future__ import annotations

import json
import sys
import time

SIDE_IMPORTS = {
    "ours": [
        "airflow_provider_wfo",
        "airflow_provider_wfo.factory.loader",
        # imported lazily by the loader at its first definition
        "airflow_provider_wfo.definition.loading",
        "airflow_provider_wfo.definition.validation",
    ],
    "hand": ["airflow.providers.standard.operators.python"],
    "dagfactory": ["dagfactory", "airflow.providers.standard.operators.python"],
    "hand_min": ["airflow.sdk"],
    "hand_empty": ["airflow.providers.standard.operators.empty"],
}


def main(argv: list[str]) -> int:
    if argv[0] == "--verify":
        # Same task ids, trigger rules and edges on both sides (the hand-written file is generated).
        left, right = shape(argv[1]), shape(argv[2])
        print(json.dumps({"same": left == right, "dags": len(left)}))
        return 0 if left == right else 1
    side, folder = argv[0], argv[1]
    profile_out = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag

    t1 = time.perf_counter()
    import importlib

    for name in SIDE_IMPORTS[side]:
        importlib.import_module(name)
    if "--warm" in argv:
        # A one-definition folder of the same side: whatever the library imports or builds lazily at
        # its first DAG (pydantic schemas, modules imported inside functions) is paid here, so it
        # counts as import overhead, not as per-definition parse cost.
        DagBag(dag_folder=argv[argv.index("--warm") + 1], safe_mode=True)
    t2 = time.perf_counter()
    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    c2 = time.process_time()
    bag = DagBag(dag_folder=folder, safe_mode=True)
    t3 = time.perf_counter()
    c3 = time.process_time()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_out)
    from airflow.serialization.serialized_objects import DagSerialization

    for dag in bag.dags.values():
        DagSerialization.to_dict(dag)
    t4 = time.perf_counter()
    tasks = sum(len(d.tasks) for d in bag.dags.values())
    print(
        json.dumps(
            {
                "side": side,
                "airflow_import_s": t1 - t0,
                "side_import_s": t2 - t1,
                "parse_s": t3 - t2,
                "parse_cpu_s": c3 - c2,
                "serialize_s": t4 - t3,
                "dags": len(bag.dags),
                "tasks": tasks,
                "import_errors": {str(k): str(v)[:500] for k, v in bag.import_errors.items()},
            }
        )
    )
    return 0


def shape(folder: str) -> dict[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """dag_id -> task_id -> (trigger rule, sorted upstream task ids)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder, safe_mode=True)
    if bag.import_errors:
        raise SystemExit(f"import errors in {folder}: {bag.import_errors}")
    return {
        dag_id: {t.task_id: (str(t.trigger_rule), tuple(sorted(t.upstream_task_ids))) for t in dag.tasks}
        for dag_id, dag in bag.dags.items()
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
