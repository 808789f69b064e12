"""Step overhead: a 20-step workflow of no-op actions vs 20 hand-written ``@task`` functions making the
same call, both run with ``dag.test`` in the same temporary AIRFLOW_HOME."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import gen
from bench.env import PYTHON, ROOT, airflow_env, migrate
from bench.stats import median, spread

STEPS = 20

ACTIONS_MODULE = "bench_noop_actions"
ACTIONS_SOURCE = '''"""The no-op action both benchmark DAGs call."""
from airflow_provider_wfo.actions.registry import register_action


def noop(params, ctx=None):
    return {"value": params.get("index")}


register_action("bench", "noop", noop)
'''

LOADER_SOURCE = (
    '"""The generated workflows of the step benchmark."""\n'
    f"import {ACTIONS_MODULE}  # noqa: F401  (registers bench.noop)\n"
    "from airflow_provider_wfo import load_workflow_dags\n\n"
    "load_workflow_dags(globals())\n"
)


def hand_source(steps: int) -> str:
    lines = [
        '"""Hand-written: the same 20 no-op calls as @task functions, and a one-task baseline."""',
        "from datetime import datetime, timezone",
        "",
        f"from {ACTIONS_MODULE} import noop",
        "from airflow.sdk import DAG, chain, task",
        "",
        "START = datetime(2024, 1, 1, tzinfo=timezone.utc)",
        "",
        "with DAG(dag_id='bench_steps_hand', schedule=None, start_date=START, catchup=False):",
    ]
    for j in range(steps):
        sid = gen.step_id(j)
        lines += [
            "",
            f"    @task(task_id={sid!r})",
            f"    def {sid}():",
            f"        return noop({{'index': {j}}})",
        ]
    lines += ["", f"    chain({', '.join(f'{gen.step_id(j)}()' for j in range(steps))})", ""]
    lines += [
        "with DAG(dag_id='bench_steps_base', schedule=None, start_date=START, catchup=False):",
        "",
        "    @task(task_id='only')",
        "    def only():",
        "        return noop({'index': 0})",
        "",
        "    only()",
        "",
    ]
    return "\n".join(lines)


def definition(steps: int) -> dict[str, Any]:
    return {
        "id": "bench_steps_wfo",
        "name": "Step overhead",
        "steps": [
            {"id": gen.step_id(j), "action": "noop", "target": "bench", "params": {"index": j}}
            for j in range(steps)
        ],
    }


def prepare(work: Path) -> tuple[Path, dict[str, str], str]:
    home = work / "steps-home"
    dags = home / "dags"
    (dags / "workflows").mkdir(parents=True, exist_ok=True)
    lib = work / "steps-lib"
    lib.mkdir(parents=True, exist_ok=True)
    (lib / f"{ACTIONS_MODULE}.py").write_text(ACTIONS_SOURCE)
    (dags / "wfo_dags.py").write_text(LOADER_SOURCE)
    (dags / "workflows" / "bench_steps_wfo.json").write_text(json.dumps(definition(STEPS), indent=2))
    (dags / "hand_steps.py").write_text(hand_source(STEPS))
    env = airflow_env(home, dags, [lib])
    how = migrate(home, env)
    return dags, env, how


def step_overhead(work: Path, rounds: int, say: Callable[[str], None]) -> dict[str, Any]:
    dags, env, how = prepare(work)
    say(f"steps: AIRFLOW_HOME {dags.parent} (DB: {how}); warm-up + {rounds} rounds of 3 dag.test runs")
    proc = subprocess.Popen(
        [PYTHON, "-m", "bench.steps_child", str(dags), str(rounds)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = proc.communicate(timeout=1800)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"steps child failed ({proc.returncode}):\n{stderr[-4000:]}")
    for line in stderr.splitlines():
        if line.startswith("# "):
            say("  " + line[2:])
    runs = json.loads(lines[-1])["runs"]
    return analyse(runs)


def analyse(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    measured = {dag_id: [r for r in rs if not r["warmup"]] for dag_id, rs in runs.items()}
    wall = {dag_id: [r["wall_s"] for r in rs] for dag_id, rs in measured.items()}
    ours, hand, base = (median(wall[d]) for d in ("bench_steps_wfo", "bench_steps_hand", "bench_steps_base"))
    step_ids = {gen.step_id(j) for j in range(STEPS)}

    def forward_mean(rs: list[dict[str, Any]]) -> float:
        per_run = []
        for r in rs:
            ds = [t["duration_s"] for tid, t in r["tasks"].items() if tid in step_ids and t["duration_s"]]
            per_run.append(sum(ds) / len(ds))
        return median(per_run)

    def extra_tasks(rs: list[dict[str, Any]]) -> float:
        per_run = []
        for r in rs:
            ds = [t["duration_s"] or 0.0 for tid, t in r["tasks"].items() if tid not in step_ids]
            per_run.append(sum(ds))
        return median(per_run)

    cpu = {dag_id: median([r["cpu_s"] for r in rs]) for dag_id, rs in measured.items()}
    cpu_ours, cpu_hand, cpu_base = (
        cpu[d] for d in ("bench_steps_wfo", "bench_steps_hand", "bench_steps_base")
    )
    task_ours = forward_mean(measured["bench_steps_wfo"])
    task_hand = forward_mean(measured["bench_steps_hand"])
    per_step_ours = (ours - base) / STEPS
    per_step_hand = (hand - base) / STEPS
    return {
        "steps": STEPS,
        "rounds": len(wall["bench_steps_wfo"]),
        "wall_s": {"ours": ours, "hand": hand, "baseline_1_task": base},
        "wall_samples": wall,
        "wall_spread": {d: spread(v) for d, v in wall.items()},
        "per_step_ms": {"ours": per_step_ours * 1000, "hand": per_step_hand * 1000},
        "per_step_diff_ms": (per_step_ours - per_step_hand) * 1000,
        "ratio_per_step": per_step_ours / per_step_hand,
        "ratio_wall": ours / hand,
        "cpu_s": cpu,
        "per_step_cpu_ms": {
            "ours": (cpu_ours - cpu_base) / STEPS * 1000,
            "hand": (cpu_hand - cpu_base) / STEPS * 1000,
        },
        "ratio_per_step_cpu": (cpu_ours - cpu_base) / (cpu_hand - cpu_base),
        "task_duration_ms": {"ours": task_ours * 1000, "hand": task_hand * 1000},
        "ratio_task_duration": task_ours / task_hand,
        "saga_tasks_s": extra_tasks(measured["bench_steps_wfo"]),
    }


def profile_ours(work: Path, say: Callable[[str], None], top: int = 30) -> dict[str, Any]:
    """cProfile of one dag.test run of the generated workflow (tasks run in this process)."""
    import io
    import pstats

    dags = work / "steps-home" / "dags"
    env = airflow_env(dags.parent, dags, [work / "steps-lib"])
    out = work / "steps-ours.prof"
    subprocess.run(
        [PYTHON, "-m", "bench.steps_child", str(dags), "0", "--profile", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    text: dict[str, str] = {}
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(str(out), stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        lines = buf.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
        text[key] = "\n".join(lines[start:]).rstrip()
    return {"file": str(out), "top_cumulative": text["cumulative"], "top_tottime": text["tottime"]}
