"""The real dag-processor: how long until N definitions are serialized and triggerable, and how long
from a file dropped, edited, broken or fixed to the DAG the api-server serves.

    .venv/bin/python -m bench.dagprocessor                      # scale 100, 1000, 5000 + latency
    .venv/bin/python -m bench.dagprocessor --sizes 100,1000 --rounds 2 --only scale

Run it under the heavy lock (``flock /tmp/wfo-heavy.lock ...``): it starts Airflow processes.

*Scale*: N definitions of 10 steps (half with a rollback on every step, ``gen.parse_set``) in one
folder with the loader files ``wfo init`` writes (one per 500 definitions; each importing the module
that registers the definitions' no-op actions, as a team's own actions are), Airflow's default
``dagbag_import_timeout`` (30 s), ``dag_file_processor_timeout`` (50 s) and ``parsing_processes`` (2),
a fresh metadata DB: SQLite, and this machine's Postgres (``--db``). Side by side in the same run,
alternated: the same task graphs built in a loop with ``EmptyOperator`` (``gen.write_empty_loop``) by
as many small files -- what the dag-processor needs for these graphs whoever writes them.
The clock starts when ``airflow dag-processor`` starts and stops when all N DAGs have a serialized
row and an active (not stale, not paused) ``dag`` row, which is what a trigger needs. Also reported:
when the first and the last file's DAGs reached the manager (its ``Bulk-writing dags to db`` lines;
the first is the start-up plus one file's parse), and the CPU seconds of the processor and its parse
processes. The growth exponent is the log-log slope over N.

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

from airflow_provider_wfo.cli.init import shards_for
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


#: Readiness in the metadata DB (SQLite and Postgres alike): DAGs serialized and active (not stale, not
#: paused), placeholders, import errors.
_READY_SQL = (
    "SELECT count(*) FROM dag d WHERE d.dag_id LIKE '{prefix}%' AND NOT d.is_stale AND NOT d.is_paused "
    "AND EXISTS (SELECT 1 FROM serialized_dag s WHERE s.dag_id = d.dag_id)",
    "SELECT count(*) FROM dag_tag WHERE name = 'wfo-broken'",
    "SELECT count(*) FROM import_error",
)
PREFIX = "bench_wf"
SIDES = ("ours", "empty")

#: The benchmark's actions, registered the way a team's own actions are (a module its loader imports):
#: unregistered, every step of every definition would warn at every parse (20 warnings a definition),
#: which measures the warning, not the parse.
ACTIONS_MODULE = "bench_dagproc_actions"
ACTIONS_SOURCE = (
    '"""The no-op actions of the generated definitions."""\n'
    "from airflow_provider_wfo.actions.registry import register_action\n\n\n"
    "def noop(params, ctx=None):\n"
    '    return {"value": params.get("index")}\n\n\n'
    'register_action("bench", "noop", noop)\n'
    'register_action("bench", "undo", noop)\n'
)


class _Sqlite:
    name = "sqlite"

    def __init__(self, home: Path) -> None:
        self.home = home

    def prepare(self, env: dict[str, str]) -> None:
        migrate(self.home, env)

    def counts(self) -> tuple[int, int, int]:
        uri = f"file:{self.home / 'airflow.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            got = [conn.execute(q.format(prefix=PREFIX)).fetchone()[0] for q in _READY_SQL]
        return int(got[0]), int(got[1]), int(got[2])


class _Postgres:
    """This machine's Postgres (``WFO_CLUSTER_PG_*``, as scripts/cluster): a database per run, copied
    from a template migrated once per benchmark process (``airflow db migrate`` on Postgres is slow)."""

    name = "postgres"
    db = "wfo_bench_dagproc"
    template = "wfo_bench_dagproc_template"
    migrated = False

    def __init__(self, home: Path) -> None:
        self.home = home
        self.host = os.environ.get("WFO_CLUSTER_PG_HOST", "127.0.0.1")
        self.port = int(os.environ.get("WFO_CLUSTER_PG_PORT", "5432"))
        self.user = os.environ.get("WFO_CLUSTER_PG_USER", "postgres")
        self.password = os.environ.get("WFO_CLUSTER_PG_PASSWORD") or None

    def url(self, db: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{db}"

    def _connect(self, db: str) -> Any:
        import psycopg2

        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=db,
            connect_timeout=10,
        )
        conn.autocommit = True
        return conn

    def _admin(self, *statements: str) -> None:
        with contextlib.closing(self._connect("postgres")) as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)

    def prepare(self, env: dict[str, str]) -> None:
        if not _Postgres.migrated:
            self._admin(
                f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)", f"CREATE DATABASE {self.template}"
            )
            subprocess.run(
                [AIRFLOW, "db", "migrate"],
                env={**env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.url(self.template)},
                check=True,
                capture_output=True,
                timeout=900,
            )
            _Postgres.migrated = True
        self._admin(
            f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)",
            f"CREATE DATABASE {self.db} TEMPLATE {self.template}",
        )
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = self.url(self.db)

    def counts(self) -> tuple[int, int, int]:
        with contextlib.closing(self._connect(self.db)) as conn, conn.cursor() as cur:
            got = []
            for query in _READY_SQL:
                cur.execute(query.format(prefix=PREFIX))
                got.append(cur.fetchone()[0])
        return int(got[0]), int(got[1]), int(got[2])

    def drop(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


def _write_folder(dags: Path, n: int, files: int, side: str) -> None:
    """N generated definitions of 10 steps in ``files`` loader files (``wfo init --shards``), or the same
    task graphs built in a loop with ``EmptyOperator`` (Airflow's cheapest task) by as many files."""
    from airflow_provider_wfo.cli.init import init_folder

    defns = gen.parse_set(n, 10)
    if side == "empty":
        for i in range(files):
            gen.write_empty_loop(dags / f"part{i + 1}", defns[i::files])
        return
    for defn in defns:
        (dags / f"{defn['id']}.json").write_text(json.dumps(defn))
    for loader in init_folder(dags, shards=files).written:
        loader.write_text(f"import {ACTIONS_MODULE}  # noqa: F401\n" + loader.read_text())


def _cpu_seconds(pid: int) -> float:
    """CPU of the dag-processor and of every parse process it has waited for."""
    import psutil

    with contextlib.suppress(psutil.Error):
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system + t.children_user + t.children_system)
    return float("nan")


def _bulk_writes(log: Path, started_wall: float) -> list[float]:
    """Seconds after the start at which the processor began writing a file's DAGs to the DB."""
    from datetime import datetime

    out = []
    for line in log.read_text(errors="replace").splitlines():
        if "Bulk-writing dags to db" in line:
            with contextlib.suppress(ValueError):
                out.append(
                    datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp() - started_wall
                )
    return out


def scale_once(
    n: int, files: int, side: str = "ours", db: str = "sqlite", timeout: float = 900
) -> dict[str, Any]:
    from airflow_provider_wfo.local.stack_settings import DROPIN_SETTINGS

    home = make_home("wfo-bench-dagproc-")
    store: _Sqlite | _Postgres = _Postgres(home) if db == "postgres" else _Sqlite(home)
    try:
        dags, lib = home / "dags", home / "lib"
        dags.mkdir()
        lib.mkdir()
        (lib / f"{ACTIONS_MODULE}.py").write_text(ACTIONS_SOURCE)
        _write_folder(dags, n, files, side)
        # Airflow's default logging level (INFO): the processor's per-file write lines time the phases.
        env = _env(home, dags, {**DROPIN_SETTINGS, "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"})
        env["PYTHONPATH"] += os.pathsep + str(lib)
        store.prepare(env)
        procs = _Procs(home, env)
        load = os.getloadavg()[0]
        started, started_wall = time.monotonic(), time.time()
        procs.start("dag-processor")
        first = None
        ready = broken = errors = 0
        cpu = float("nan")
        try:
            while time.monotonic() - started < timeout and procs.alive():
                with contextlib.suppress(Exception):
                    ready, broken, errors = store.counts()
                if ready and first is None:
                    first = time.monotonic() - started
                if ready >= n:
                    break
                time.sleep(0.5)
            total = time.monotonic() - started
            cpu = _cpu_seconds(procs.procs[0].pid)
        finally:
            procs.stop()
        log = home / "dag-processor.log"
        if ready < n:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{side} N={n} ({db}): only {ready} of {n} ready after {total:.0f} s\n{tail}")
        writes = [w for w in _bulk_writes(log, started_wall) if w <= total]
        return {
            "side": side,
            "db": db,
            "n": n,
            "files": files,
            "total_s": round(total, 2),
            "first_s": round(first or total, 2),
            # the processor's start-up: until the first file's DAGs reach the manager
            "first_write_s": round(writes[0], 2) if writes else None,
            "last_write_s": round(writes[-1], 2) if writes else None,
            "cpu_s": round(cpu, 2),
            "placeholders": broken,
            "import_errors": errors,
            "loadavg_before": round(load, 2),
        }
    finally:
        if isinstance(store, _Postgres):
            with contextlib.suppress(Exception):
                store.drop()
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


def _scale_summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per database: ours against EmptyOperator at each N, and each side's growth exponent."""
    summary = []
    for db in dict.fromkeys(r["db"] for r in runs):
        sharded = [r for r in runs if r["db"] == db and r["files"] == shards_for(r["n"])]
        row: dict[str, Any] = {
            "db": db,
            "exponent": {},
            "exponent_cpu": {},
            "ratio_total": {},
            "ratio_cpu": {},
        }
        for side in SIDES:
            mine = [r for r in sharded if r["side"] == side]
            if len(mine) > 1:
                sizes = [r["n"] for r in mine]
                row["exponent"][side] = round(loglog_slope(sizes, [r["total_s"] for r in mine]), 2)
                # the wall clock starts with the processor's fixed start-up; CPU grows with the work
                row["exponent_cpu"][side] = round(loglog_slope(sizes, [r["cpu_s"] for r in mine]), 2)
        for n in dict.fromkeys(r["n"] for r in sharded):
            pair = {r["side"]: r for r in sharded if r["n"] == n}
            if set(SIDES) <= set(pair):
                row["ratio_total"][n] = round(pair["ours"]["total_s"] / pair["empty"]["total_s"], 2)
                row["ratio_cpu"][n] = round(pair["ours"]["cpu_s"] / pair["empty"]["cpu_s"], 2)
        summary.append(row)
    return summary


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
    parser.add_argument(
        "--db",
        default="sqlite,postgres",
        help="metadata DBs for the scale runs: sqlite, postgres (comma-separated)",
    )
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"machine": machine()}
    if args.only in (None, "scale"):
        sizes = [int(s) for s in args.sizes.split(",")]
        runs = []
        for db in args.db.split(","):
            for n in sizes:
                files = shards_for(n)
                # side by side in one run, the order alternated from one size to the next
                for side in SIDES if len(runs) % 4 == 0 else SIDES[::-1]:
                    runs.append(scale_once(n, files, side=side, db=db))
                    _say(f"scale: {runs[-1]}")
            if args.single_file:
                runs.append(scale_once(sizes[-1], 1, side="ours", db=db))
                _say(f"scale, one loader file: {runs[-1]}")
        out["scale"] = {"runs": runs, "summary": _scale_summary(runs)}
    if args.only in (None, "latency"):
        out["latency"] = latency(args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "dagprocessor.json" if args.only is None else f"dagprocessor-{args.only}.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
