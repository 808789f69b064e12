"""A real Airflow deployment for the events tests: api-server, scheduler and dag-processor as separate
processes, LocalExecutor (each task runs in its own worker process), SQLite, SimpleAuthManager with a
password user. Started by the test, stopped by the test (each process by its own id)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
USER, PASSWORD = "admin", "wfo-events-pw"

LOADER = """
import sys
sys.path.insert(0, {tests!r})
import wfo_test_actions  # noqa: F401  (target "test")
from airflow_provider_wfo import load_workflow_dags
load_workflow_dags(globals())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    def __init__(self, home: Path, template_db: Path | None, definitions: list[dict[str, Any]]) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events_file = home / "events.jsonl"
        self.calls_file = home / "calls.jsonl"
        self.dags = home / "dags"
        self.dags.mkdir(parents=True)
        (self.dags / "wfo_events_dags.py").write_text(LOADER.format(tests=str(TESTS)))
        for defn in definitions:
            (self.dags / f"{defn['id']}.json").write_text(json.dumps(defn))
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({USER: PASSWORD}))
        if template_db is not None and template_db.exists():
            shutil.copyfile(template_db, home / "airflow.db")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WFO_"))}
        self.env = {
            **keep,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "wfo-events-stack-jwt-secret-" + "x" * 64,
            "AIRFLOW__API__SECRET_KEY": "wfo-events-stack-secret-key",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(TESTS.parent / "plugins"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__WFO__EVENT_SINKS": f"log,jsonl:{self.events_file}",
            "WFO_TEST_CALLS": str(self.calls_file),
            "WFO_WORKSPACE": str(home / "workspace"),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _airflow(self, *args: str, name: str) -> None:
        log = (self.home / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [str(VENV_BIN / "airflow"), *args], env=self.env, cwd=self.home, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def start(self, timeout: float = 240, triggerer: bool = False) -> None:
        subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=self.env, cwd=self.home,
                       check=True, capture_output=True, timeout=600)
        self._airflow("api-server", name="api-server")
        # No log servers: every process is on this machine and the api-server reads the log files
        # itself (as scripts/demo and scripts/cluster run them); their fixed ports could clash.
        self._airflow("scheduler", "--skip-serve-logs", name="scheduler")
        self._airflow("dag-processor", name="dag-processor")
        if triggerer:
            self._airflow("triggerer", "--skip-serve-logs", name="triggerer")
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                status, _ = self.request("GET", "/api/v2/monitor/health", auth=False, retry=False)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"api-server not up in {timeout} s; see {self.home}/api-server.log")
            time.sleep(1)
        self.token = self.login()

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited ({proc.returncode}); see {self.home}/{name}.log")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the group this test created for it
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def login(self) -> str:
        credentials = {"username": USER, "password": PASSWORD}
        status, body = self.request("POST", "/auth/token", credentials, auth=False)
        assert status in (200, 201), f"login: {status} {body}"
        return str(body["access_token"])

    def request(
        self, method: str, path: str, body: Any = None, auth: bool = True, retry: bool = True
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        # A GET is asked again when the one-worker api-server drops or stalls it on a loaded machine;
        # anything else is sent once (a trigger must not be repeated).
        tries = 3 if method == "GET" and retry else 1
        for attempt in range(1, tries + 1):
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    raw = response.read()
                    kind = response.headers.get("content-type", "")
                    return response.status, json.loads(raw) if raw and "json" in kind else raw.decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode(errors="replace")
            except OSError:
                if attempt == tries:
                    raise
                time.sleep(2)
        raise AssertionError("unreachable")

    @staticmethod
    def q(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.request("GET", f"/api/v2/dags/{dag_id}")[0] != 200:
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"DAG {dag_id} not parsed; see {self.home}/dag-processor.log")
            time.sleep(2)
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        body_in = {"logical_date": None, "conf": conf}
        status, body = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body_in)
        assert status == 200, f"trigger {dag_id}: {status} {body}"
        return str(body["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            status, body = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{self.q(run_id)}")
            if status == 200 and body["state"] in ("success", "failed"):
                return str(body["state"])
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} of {dag_id} not finished; see {self.home}/scheduler.log")
            time.sleep(1)

    def events(self, run_id: str) -> list[dict[str, Any]]:
        if not self.events_file.exists():
            return []
        found = [json.loads(line) for line in self.events_file.read_text().splitlines() if line.strip()]
        return [e for e in found if e.get("runId") == run_id]
