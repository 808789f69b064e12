"""Throughput on the distributed stack (``--cluster``): completed runs per minute of the pre-built
invoice workflow (local backends) against a hand-written DAG doing the same connector calls, on the
native CeleryExecutor stack of ``scripts/cluster`` (Postgres + Redis of this machine, two workers).

The benchmark stack is separate from a developer's (``scripts/cluster up``) and from the test stack:
its own AIRFLOW_HOME (a temp dir), database ``wfo_bench``, Redis DB 7, api-server port 28380
(override with WFO_BENCH_CLUSTER_DB / _REDIS / _PORT). It is torn down (database dropped) at the end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_wfo.prebuilt.rest import AirflowRest
from bench.env import ROOT, load_cluster_script
from bench.stats import median

OURS = "wfo_invoice"
HAND = "bench_hand_invoice"
#: The rollback-free three-step workflow (N+1 = 4 tasks) and three hand-written @tasks.
CHAIN = "bench_chain_wfo"
HAND_CHAIN = "bench_chain_hand"
PAIRS = ((OURS, HAND), (CHAIN, HAND_CHAIN))
FINISHED = ("success", "failed")

NOOP_MODULE = "bench_cluster_noop"
NOOP_SOURCE = '''"""The no-op action of the chain comparison (on the stack's PYTHONPATH)."""
from airflow_provider_wfo.actions.registry import register_action


def noop(params, ctx=None):
    return {"value": params.get("index")}


register_action("bench", "noop", noop)
'''

CHAIN_DEFINITION = {
    "id": CHAIN,
    "name": "Three steps, no rollback",
    "steps": [{"id": f"s{j}", "action": "noop", "target": "bench", "params": {"index": j}} for j in range(3)],
}

CHAIN_LOADER = (
    '"""The chain comparison\'s workflow definition."""\n'
    f"import {NOOP_MODULE}  # noqa: F401  (registers bench.noop)\n"
    "from airflow_provider_wfo import load_workflow_dags\n\n"
    'load_workflow_dags(globals(), folder=__file__.rsplit("/", 1)[0] + "/chain")\n'
)

HAND_CHAIN_SOURCE = f'''"""Hand-written: the same three no-op calls as @task functions."""
from datetime import datetime, timezone

from airflow.sdk import DAG, chain, task
from {NOOP_MODULE} import noop

with DAG(dag_id="{HAND_CHAIN}", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
         catchup=False, tags=["bench"]):

    @task(task_id="s0")
    def s0():
        return noop({{"index": 0}})

    @task(task_id="s1")
    def s1():
        return noop({{"index": 1}})

    @task(task_id="s2")
    def s2():
        return noop({{"index": 2}})

    chain(s0(), s1(), s2())
'''

HAND_SOURCE = '''"""Hand-written equivalent of the pre-built invoice workflow: the same three connector
calls with the same retries and timeouts, and a cleanup task that deletes the filed document when the sheet
update fails (what a person writes instead of the saga)."""
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, TriggerRule, get_current_context, task


def _ctx(target, action, step):
    from airflow_provider_wfo.actions.registry import ActionContext

    ti = get_current_context()["ti"]
    return ActionContext(
        target=target, action=action, conn_id=f"wfo_{target}",
        idempotency_key=f"{ti.dag_id}:{ti.run_id}:{step}", dag_id=ti.dag_id, run_id=ti.run_id,
        step_id=step, attempt=ti.try_number or 1,
    )


def _conf():
    conf = dict(get_current_context()["dag_run"].conf or {})
    conf.setdefault("spreadsheetId", "invoice-tracking")
    return conf


with DAG(dag_id="bench_hand_invoice", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
         catchup=False, tags=["bench"]):

    @task(retries=2, execution_timeout=timedelta(seconds=120))
    def file_drive():
        from airflow_provider_wfo.actions.registry import get_action

        file_document = get_action("drive", "file_document")

        conf = _conf()
        params = {"name": conf["fileName"], "filePath": conf["filePath"], "type": "INVOICE"}
        return file_document(params, _ctx("drive", "file_document", "file-drive"))

    @task(retries=2, execution_timeout=timedelta(seconds=60))
    def update_sheet(filed):
        from airflow_provider_wfo.actions.registry import get_action

        append = get_action("sheets", "update_sheet")

        conf = _conf()
        values = [filed.get("createdTime"), conf["vendor"], conf["amount"], conf["dueDate"], "Pending",
                  filed.get("webViewLink")]
        params = {"spreadsheetId": conf["spreadsheetId"], "operation": "APPEND_ROW", "values": values}
        return append(params, _ctx("sheets", "update_sheet", "update-sheet"))

    @task(retries=2, execution_timeout=timedelta(seconds=30))
    def notify(filed):
        from airflow_provider_wfo.actions.registry import get_action

        send_notification = get_action("slack", "send_notification")

        conf = _conf()
        fields = [
            {"title": "Vendor", "value": conf["vendor"]},
            {"title": "Amount", "value": conf["amount"]},
            {"title": "Due Date", "value": conf["dueDate"]},
            {"title": "File", "value": filed.get("webViewLink")},
        ]
        params = {"channel": "accounting", "message": f"New invoice from {conf['vendor']} filed for payment",
                  "fields": fields}
        return send_notification(params, _ctx("slack", "send_notification", "notify-accounting"))

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=3, retry_delay=timedelta(seconds=1))
    def delete_filed(filed):
        from airflow_provider_wfo.actions.registry import get_action

        delete_file = get_action("drive", "delete_file")

        if filed:
            delete_file({"fileId": filed["fileId"]}, _ctx("drive", "delete_file", "file-drive:rollback"))

    filed = file_drive()
    sheet = update_sheet(filed)
    sheet >> notify(filed)
    sheet >> delete_filed(filed)
'''


class Rest(AirflowRest):
    """The product's REST client (``prebuilt/rest.py``) logged in as the benchmark stack's user."""

    def __init__(self, url: str) -> None:
        super().__init__(url, username="bench", password="bench", request_timeout=60)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def batch(rest: Rest, dag_id: str, conf: dict[str, Any], runs: int, timeout: float) -> dict[str, Any]:
    """Trigger ``runs`` runs at once; runs per minute from the first trigger to the last end_date."""
    started = time.time()
    ids = [rest.trigger(dag_id, conf) for _ in range(runs)]
    pending = set(ids)
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending:
        # One listing a round, not one request a run: the poll itself must not load the api-server.
        for info in rest.runs(dag_id):
            if info["dag_run_id"] in pending and info["state"] in FINISHED:
                done[info["dag_run_id"]] = info
                pending.discard(info["dag_run_id"])
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} runs of {dag_id} not finished in {timeout} s")
        if pending:
            time.sleep(1)
    # What one run cost in task processes: which tasks ran (not skipped) and for how long.
    sample = rest.task_instances_of(dag_id, ids[-1])
    ran = [t for t in sample if t["state"] not in ("skipped", "removed", None)]
    last_end = max(_ts(info["end_date"]) for info in done.values())
    elapsed = last_end - started
    states = [info["state"] for info in done.values()]
    return {
        "runs": runs,
        "elapsed_s": elapsed,
        "per_min": runs / elapsed * 60,
        "failed": states.count("failed"),
        "tasks_run_per_run": len(ran),
        "task_seconds_per_run": sum(float(t.get("duration") or 0.0) for t in ran),
        "tasks": {t["task_id"]: [t["state"], t.get("duration")] for t in sample},
    }


def find_pyspy() -> str | None:
    """py-spy, if installed (``pip install py-spy`` anywhere; ``WFO_BENCH_PYSPY`` names the binary)."""
    import shutil

    candidates = [os.environ.get("WFO_BENCH_PYSPY"), shutil.which("py-spy"), str(ROOT / ".venv/bin/py-spy")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def summarize_raw(paths: list[Path], top: int = 25) -> dict[str, Any]:
    """py-spy ``--format raw`` (collapsed stacks): the frames with most samples, own and inclusive."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if f]
            if not frames:
                continue
            total += n
            own[frames[-1]] = own.get(frames[-1], 0) + n
            for frame in set(frames):
                incl[frame] = incl.get(frame, 0) + n

    def ranked(table: dict[str, int]) -> list[str]:
        rows = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in rows] if total else []

    # The generic worker call chain is in every stack; what differs is below it.
    below = {f: n for f, n in incl.items() if total and n / total < 0.8}
    return {
        "samples": total,
        "top_own": ranked(own),
        "top_inclusive": ranked(below),
        "top_provider": ranked({f: n for f, n in incl.items() if "airflow_provider_wfo" in f}),
        "top_imports": ranked({f: n for f, n in incl.items() if f.startswith("<module>")}),
    }


def profiled_batch(
    rest: Rest, stack: Any, dag_id: str, conf: dict[str, Any], runs: int, out: Path, pyspy: str
) -> dict[str, Any]:
    """One extra (unmeasured) batch with py-spy sampling every worker and its task processes."""
    import subprocess

    procs = []
    files = []
    for name in stack.worker_names():
        proc = stack.procs.get(name)
        if proc is None:
            continue
        target = out / f"pyspy-{dag_id}-{name}.txt"
        files.append(target)
        procs.append(
            subprocess.Popen(
                [
                    pyspy,
                    "record",
                    "--pid",
                    str(proc.pid),
                    "--subprocesses",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--rate",
                    "50",
                    "--output",
                    str(target),
                    "--duration",
                    "600",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    try:
        time.sleep(2)
        result = batch(rest, dag_id, conf, runs, 1800)
    finally:
        for proc in procs:
            proc.send_signal(2)  # SIGINT: py-spy writes what it sampled so far
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"batch": result, **summarize_raw(files)}


def throughput(
    work: Path,
    say: Callable[[str], None],
    runs: int = 24,
    rounds: int = 3,
    workers: int = 2,
    profile: str = "auto",
    dagfactory_plugin: bool = False,
) -> dict[str, Any]:
    script = load_cluster_script()
    dags = work / "cluster-dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / "bench_hand_invoice.py").write_text(HAND_SOURCE)
    (dags / "bench_chain_hand.py").write_text(HAND_CHAIN_SOURCE)
    (dags / "chain").mkdir(exist_ok=True)
    (dags / "chain" / f"{CHAIN}.json").write_text(json.dumps(CHAIN_DEFINITION, indent=2))
    (dags / "bench_chain_wfo.py").write_text(CHAIN_LOADER)
    lib = work / "cluster-lib"
    lib.mkdir(parents=True, exist_ok=True)
    (lib / f"{NOOP_MODULE}.py").write_text(NOOP_SOURCE)
    home = work / "cluster-home"
    extra_env: dict[str, str] = {"PYTHONPATH": str(lib)}
    if not dagfactory_plugin:
        # dag-factory is in this venv only for the parse comparison (the `bench` extra); its telemetry
        # plugin would be imported by every task process of both DAGs. A stub package earlier on the
        # path hides it, so the stack looks like a production install without dag-factory.
        shim = work / "no-dagfactory"
        (shim / "dagfactory").mkdir(parents=True, exist_ok=True)
        (shim / "dagfactory" / "__init__.py").write_text('"""bench: dag-factory hidden from the stack."""\n')
        (shim / "dagfactory" / "plugin.py").write_text("DagFactoryPlugin = None\n")
        extra_env["PYTHONPATH"] = os.pathsep.join([str(shim), str(lib)])
    settings = script.Settings(
        home=home,
        db=os.environ.get("WFO_BENCH_CLUSTER_DB", "wfo_bench"),
        port=int(os.environ.get("WFO_BENCH_CLUSTER_PORT", "28380")),
        redis_url=os.environ.get("WFO_BENCH_CLUSTER_REDIS", "redis://127.0.0.1:6379/7"),
        workers=workers,
        extra_dags=[dags],
        extra_env=extra_env,
    )
    stack = script.Cluster(settings)
    try:
        stack.check_services()
    except script.ServicesUnavailable as exc:
        return {"measured": False, "reason": f"Postgres/Redis not available: {exc}"}
    t0 = time.monotonic()
    try:
        stack.up(timeout=600)
        say(f"cluster: up in {time.monotonic() - t0:.0f} s at {stack.url} ({workers} workers)")
        inbox = settings.workspace / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "bench-invoice.pdf").write_bytes(b"%PDF-1.4\n% benchmark invoice\n%%EOF\n")
        conf = {
            "fileName": "Invoice-Bench.pdf",
            "filePath": "bench-invoice.pdf",
            "vendor": "Acme Corporation",
            "amount": 1500.0,
            "dueDate": "2026-12-31",
        }
        rest = Rest(stack.url)
        dag_ids = [d for pair in PAIRS for d in pair]
        confs = {OURS: conf, HAND: conf, CHAIN: {}, HAND_CHAIN: {}}
        for dag_id in dag_ids:
            rest.wait_for_dag(dag_id, 300, interval=2)
            rest.set_paused(dag_id, False)
        say("cluster: warm-up (2 runs each)")
        for dag_id in dag_ids:
            warm = batch(rest, dag_id, confs[dag_id], 2, 600)
            if warm["failed"]:
                raise RuntimeError(f"warm-up runs of {dag_id} failed; logs in {settings.logs}")
        samples: dict[str, list[dict[str, Any]]] = {d: [] for d in dag_ids}
        for rnd in range(rounds):
            for dag_id in dag_ids:  # alternated, so slow phases of the machine hit every DAG alike
                result = batch(rest, dag_id, confs[dag_id], runs, 1800)
                samples[dag_id].append(result)
                say(
                    f"  round {rnd + 1}/{rounds} {dag_id}: {result['per_min']:.1f} runs/min "
                    f"({result['runs']} runs, {result['elapsed_s']:.0f} s, {result['failed']} failed)"
                )
        profiles: dict[str, Any] = {}
        rate = {d: median([s["per_min"] for s in samples[d]]) for d in dag_ids}
        ours, hand = rate[OURS], rate[HAND]
        chain = {"ours_per_min": rate[CHAIN], "hand_per_min": rate[HAND_CHAIN]}
        chain["ratio"] = chain["ours_per_min"] / chain["hand_per_min"]
        wanted = profile == "always" or (profile == "auto" and (ours / hand < 0.8 or chain["ratio"] < 0.9))
        pyspy = find_pyspy() if wanted else None
        if wanted and pyspy is None:
            profiles["note"] = "py-spy not found (pip install py-spy, or set WFO_BENCH_PYSPY)"
        elif pyspy is not None:
            for dag_id in dag_ids:
                say(f"cluster: profiling one extra batch of {dag_id} with py-spy (not counted)")
                try:
                    profiles[dag_id] = profiled_batch(rest, stack, dag_id, confs[dag_id], runs, work, pyspy)
                except Exception as exc:  # a profile is a bonus; the measurement stands without it
                    profiles[dag_id] = {"error": f"{type(exc).__name__}: {exc}"}
        return {
            "measured": True,
            "workers": workers,
            "concurrency_per_worker": settings.concurrency,
            "runs_per_batch": runs,
            "rounds": rounds,
            "ours_per_min": ours,
            "hand_per_min": hand,
            "ratio": ours / hand,
            "chain": chain,
            "samples": samples,
            "profiles": profiles,
            "dagfactory_plugin": dagfactory_plugin,
            "failed_runs": sum(s["failed"] for v in samples.values() for s in v),
            "tasks_run_per_run": {d: samples[d][-1]["tasks_run_per_run"] for d in samples},
            "task_seconds_per_run": {
                d: median([s["task_seconds_per_run"] for s in samples[d]]) for d in samples
            },
        }
    except Exception as exc:
        return {"measured": False, "reason": f"{type(exc).__name__}: {exc}"[:2000]}
    finally:
        stack.down(drop_db=True)
