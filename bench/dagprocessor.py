"""The real dag-processor: how long until N definitions are serialized and triggerable, and how long
from a file dropped, edited, broken or fixed to the DAG the api-server serves.

    .venv/bin/python -m bench.dagprocessor                      # scale 100, 1000, 5000 + latency
    .venv/bin/python -m bench.dagprocessor --sizes 100,1000 --rounds 2 --only scale

Run it under the heavy lock (``flock /tmp/wfo-heavy.lock ...``): it starts Airflow processes.

*Scale*: N definitions of 10 steps (half with a rollback on every step, ``gen.parse_set``) in one
folder with the loader files ``wfo init --shards ceil(N / 1000)`` writes, Airflow's default
``dagbag_import_timeout`` (30 s) and ``dag_file_processor_timeout`` (50 s), a fresh SQLite metadata DB.
The clock starts when ``airflow dag-processor`` starts and stops when all N DAGs have a serialized
row and an active (not stale, not paused) ``dag`` row, which is what a trigger needs; the time of the
first DAG is reported too (the processor's start-up). The growth exponent is the log-log slope over N.

*Latency*: a dag-processor and an api-server with the settings every stack of this repo uses
(``airflow_provider_wfo/local/stack_settings.py``), on a copy of the repo's ``dags/`` (the pre-built
workflows and the examples, as ``scripts/demo --ui``). Each round drops a new definition (until the
REST API serves it and a trigger is accepted), edits it (until its new step is served), breaks it
(until the ``wfo-broken`` placeholder is served) and fixes it (until the real DAG is back).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import gen
from bench.env import ROOT, airflow_env, machine, make_home, migrate, remove_home
from bench.stats import loglog_slope, median

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
RESULTS = ROOT / "bench" / "results"
STEP = {"action": "send_notification", "target": "slack", "params": {"channel": "#x", "message": "m"}}


def _say(message: str) -> None:
    print(f"[dagprocessor] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, dags: Path, extra: dict[str, str]) -> dict[str, str]:
    env = airflow_env(home, dags)
    # Airflow's defaults: the point is to load within them.
    env.pop("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", None)
    env.pop("AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT", None)
    env.update({"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", **extra})
    return env


class _Procs:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env, self.procs = home, env, []  # type: ignore[var-annotated]

    def start(self, *argv: str) -> None:
        log = (self.home / f"{argv[0]}.log").open("ab")
        self.procs.append(
            subprocess.Popen(
                [AIRFLOW, *argv], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _ready(db: Path, prefix: str) -> tuple[int, int, int]:
    """(DAGs serialized and active, placeholders among them, import errors) in the metadata DB."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        ready = conn.execute(
            "SELECT count(*) FROM dag d WHERE d.dag_id LIKE ? AND NOT d.is_stale AND NOT d.is_paused "
            "AND EXISTS (SELECT 1 FROM serialized_dag s WHERE s.dag_id = d.dag_id)",
            (f"{prefix}%",),
        ).fetchone()[0]
        broken = conn.execute("SELECT count(*) FROM dag_tag WHERE name = 'wfo-broken'").fetchone()[0]
        errors = conn.execute("SELECT count(*) FROM import_error").fetchone()[0]
    return int(ready), int(broken), int(errors)


def scale_once(n: int, shards: int, timeout: float = 900) -> dict[str, Any]:
    from airflow_provider_wfo.cli.init import init_folder
    from airflow_provider_wfo.local.stack_settings import DROPIN_SETTINGS

    home = make_home("wfo-bench-dagproc-")
    try:
        dags = home / "dags"
        dags.mkdir()
        for defn in gen.parse_set(n, 10):
            (dags / f"{defn['id']}.json").write_text(json.dumps(defn))
        init_folder(dags, shards=shards)
        env = _env(home, dags, {**DROPIN_SETTINGS, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"})
        migrate(home, env)
        procs = _Procs(home, env)
        load = os.getloadavg()[0]
        started = time.monotonic()
        procs.start("dag-processor")
        first = None
        ready = broken = errors = 0
        try:
            while time.monotonic() - started < timeout and procs.alive():
                with contextlib.suppress(sqlite3.Error):
                    ready, broken, errors = _ready(home / "airflow.db", "bench_wf")
                if ready and first is None:
                    first = time.monotonic() - started
                if ready >= n:
                    break
                time.sleep(0.5)
            total = time.monotonic() - started
        finally:
            procs.stop()
        if ready < n:
            tail = (home / "dag-processor.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"N={n}: only {ready} of {n} ready after {total:.0f} s\n{tail}")
        return {
            "n": n,
            "shards": shards,
            "total_s": round(total, 2),
            "first_s": round(first or total, 2),
            "placeholders": broken,
            "import_errors": errors,
            "loadavg_before": round(load, 2),
        }
    finally:
        remove_home(home)


class _Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if not self.token:
            with urllib.request.urlopen(f"{self.url}/auth/token", timeout=10) as resp:
                self.token = json.loads(resp.read())["access_token"]
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/api/v2{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, None


def _until(check: Callable[[], bool], timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(OSError, ValueError):
            if check():
                return time.monotonic() - started
        time.sleep(0.25)
    raise RuntimeError(f"not seen within {timeout} s")


def latency(rounds: int) -> dict[str, Any]:
    from airflow_provider_wfo.local.stack_settings import DROPIN_SETTINGS

    home = make_home("wfo-bench-latency-")
    procs: _Procs | None = None
    try:
        dags = home / "dags"
        shutil.copytree(ROOT / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = _env(
            home,
            dags,
            {
                **DROPIN_SETTINGS,
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": "bench-latency-" + "x" * 40,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            },
        )
        migrate(home, env)
        procs = _Procs(home, env)
        procs.start("api-server")
        procs.start("dag-processor")
        api = _Api(url)
        _until(lambda: api.call("GET", "/dags/wfo_invoice")[0] == 200, timeout=600)
        samples: dict[str, list[float]] = {"dropped": [], "edited": [], "broken": [], "fixed": []}
        for r in range(rounds):
            dag_id = f"latency_{r}"
            path = dags / "workflows" / f"{dag_id}.json"
            good = {"id": dag_id, "name": "Latency", "steps": [{"id": "a", **STEP}]}

            def tasks(dag_id: str = dag_id) -> set[str]:
                status, body = api.call("GET", f"/dags/{dag_id}/tasks")
                return {t["task_id"] for t in body["tasks"]} if status == 200 else set()

            def tags(dag_id: str = dag_id) -> set[str]:
                status, body = api.call("GET", f"/dags/{dag_id}")
                return {t["name"] for t in body["tags"]} if status == 200 else set()

            def triggered(dag_id: str = dag_id) -> bool:
                trigger = {"logical_date": None, "conf": {}}
                return api.call("POST", f"/dags/{dag_id}/dagRuns", trigger)[0] == 200

            path.write_text(json.dumps(good))
            samples["dropped"].append(_until(lambda: "a" in tasks() and triggered()))
            path.write_text(json.dumps({**good, "steps": [*good["steps"], {"id": "b", **STEP}]}))
            samples["edited"].append(_until(lambda: "b" in tasks()))
            broken = {**good, "steps": [{"id": "a", **STEP, "dependOn": []}]}
            path.write_text(json.dumps(broken))
            samples["broken"].append(_until(lambda: "wfo-broken" in tags()))
            path.write_text(json.dumps(good))
            samples["fixed"].append(_until(lambda: "wfo-broken" not in tags() and "a" in tasks()))
            _say(f"latency round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in samples.items()))
        return {
            "settings": DROPIN_SETTINGS,
            "samples": samples,
            "median_s": {k: round(median(v), 1) for k, v in samples.items()},
            "max_s": {k: round(max(v), 1) for k, v in samples.items()},
        }
    finally:
        if procs is not None:
            procs.stop()
        remove_home(home)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dagprocessor", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="100,1000,5000", help="N for the scale runs (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds (each: drop, edit, break, fix)")
    parser.add_argument("--only", choices=("scale", "latency"), help="run one part")
    parser.add_argument(
        "--single-file", action="store_true", help="also run the largest N with one loader file"
    )
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"machine": machine()}
    if args.only in (None, "scale"):
        sizes = [int(s) for s in args.sizes.split(",")]
        runs = []
        for n in sizes:
            runs.append(scale_once(n, shards=max(1, math.ceil(n / 1000))))
            _say(f"scale: {runs[-1]}")
        if args.single_file:
            runs.append(scale_once(sizes[-1], shards=1))
            _say(f"scale, one loader file: {runs[-1]}")
        sharded = [r for r in runs if r["shards"] == max(1, math.ceil(r["n"] / 1000))]
        out["scale"] = {
            "runs": runs,
            "exponent_total": round(
                loglog_slope([r["n"] for r in sharded], [r["total_s"] for r in sharded]), 2
            ),
        }
    if args.only in (None, "latency"):
        out["latency"] = latency(args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "dagprocessor.json" if args.only is None else f"dagprocessor-{args.only}.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
