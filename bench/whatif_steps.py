"""Analysis, not part of ``python -m bench``: where the step overhead comes from.

``python -m bench.whatif_steps [ROUNDS]`` prepares the step benchmark's AIRFLOW_HOME in a temp folder and
runs, alternated in one process, the generated 20-step workflow as it is and with parts of the per-step
work switched off by monkeypatching (the events listener's two reads per step, the step's abort check),
plus the hand-written ``@task`` DAG; it prints the median CPU seconds per run and the supervisor requests
per run of each variant. It patches private names of the provider, so it may need updating when those
change; the figures it printed are in /tmp/wfo-status/bench-findings.md.
"""

from __future__ import annotations

import subprocess
import sys

from bench import env, steps

CHILD = r"""
import collections, statistics, sys, time
from airflow import settings
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.execution_time import supervisor as sv
from airflow_provider_wfo.events import listener as L
from airflow_provider_wfo.operators.step import WfoStepOperator

counts = collections.Counter()
orig = sv.ActivitySubprocess._handle_request


def counted(self, msg, log, req_id):
    counts[type(msg).__name__] += 1
    return orig(self, msg, log, req_id)


sv.ActivitySubprocess._handle_request = counted
ORIG = (L._step_fields, L._publish_progress, WfoStepOperator._abort_check)


def apply(variant):
    L._step_fields, L._publish_progress, WfoStepOperator._abort_check = ORIG
    if "nolistener" in variant:
        L._step_fields = lambda view, error=None: {}
        L._publish_progress = lambda view, own_state: None
    if "noabort" in variant:
        WfoStepOperator._abort_check = lambda self, context: None


settings.configure_orm()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
variants = ["as is", "nolistener", "noabort", "nolistener+noabort"]
cpu, reqs = collections.defaultdict(list), {}
for dag_id in ("bench_steps_wfo", "bench_steps_hand"):
    bag.dags[dag_id].test()
for _ in range(int(sys.argv[2])):
    for name in [*variants, "hand @task"]:
        apply(name)
        dag = bag.dags["bench_steps_hand" if name == "hand @task" else "bench_steps_wfo"]
        counts.clear()
        t0 = time.process_time()
        dag.test()
        cpu[name].append(time.process_time() - t0)
        reqs[name] = sum(counts.values())
apply("as is")
hand = statistics.median(cpu["hand @task"])
for name in [*variants, "hand @task"]:
    m = statistics.median(cpu[name])
    print(f"{name:20} {m:6.3f} CPU s/run  {reqs[name]:4d} requests/run  {m / hand:5.2f}x hand")
"""


def main() -> int:
    rounds = sys.argv[1] if len(sys.argv) > 1 else "5"
    work = env.make_home("wfo-bench-whatif-")
    try:
        dags, child_env, _ = steps.prepare(work)
        proc = subprocess.run(
            [env.PYTHON, "-c", CHILD, str(dags), rounds], env=child_env, cwd=env.ROOT, check=False
        )
        return proc.returncode
    finally:
        env.remove_home(work)


if __name__ == "__main__":
    sys.exit(main())
