"""The real distributed stack for the cluster tests: CeleryExecutor, Postgres, Redis, an api-server,
scheduler, dag-processor, triggerer and two Celery workers, brought up once per session by
``scripts/cluster`` (the same code a user runs) and torn down at the end.

Needs the machine's Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379). When they are absent the
cluster tests are skipped with the reason, unless ``WFO_REQUIRE_CLUSTER=1`` (``.ci/run`` sets it),
in which case they fail: CI must never pass by skipping the distributed stack.

Each session's stack is its own, so a stack run by hand (``scripts/cluster up``) or a second test
session on the same machine is never touched: AIRFLOW_HOME ``<tmp>/wfo-cluster-test-<pid>`` (removed
after a green session, kept with its logs otherwise), database ``wfo_cluster_test_<pid>`` (dropped),
Celery queue ``wfo-test-<pid>`` on Redis DB 6, and a free block of ports from 28180.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_DAGS = Path(__file__).resolve().parent / "dags"
FINISHED = ("success", "failed")


def load_cluster_script() -> ModuleType:
    """scripts/cluster as a module (it has no .py suffix: it is a command first)."""
    name = "wfo_cluster_script"
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / "scripts" / "cluster"))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    loader.exec_module(module)
    return module


class AirflowRest:
    """The public REST API (v2) of the stack's api-server, as a user's client would call it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""
        self.login()

    def login(self) -> None:
        status, body = self._call("POST", "/auth/token", {"username": "wfo", "password": "wfo"}, auth=False)
        assert status == 201, f"POST /auth/token: {status} {body}"
        self.token = body["access_token"]

    def _call(self, method: str, path: str, body: Any = None, auth: bool = True) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            try:
                return exc.code, json.loads(text)
            except ValueError:
                return exc.code, text

    def call(self, method: str, path: str, body: Any = None, expect: Iterable[int] = (200,)) -> Any:
        status, result = self._call(method, path, body)
        if status == 401:  # token expired: log in again once
            self.login()
            status, result = self._call(method, path, body)
        assert status in tuple(expect), f"{method} {path}: {status} {result}"
        return result

    @staticmethod
    def q(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self._call("GET", f"/api/v2/dags/{self.q(dag_id)}")
            if status == 200:
                return dict(body)
            if time.monotonic() > deadline:
                errors = self.call("GET", "/api/v2/importErrors")
                raise AssertionError(f"DAG {dag_id} not loaded in {timeout} s; import errors: {errors}")
            time.sleep(1)

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.call(
            "POST",
            f"/api/v2/dags/{self.q(dag_id)}/dagRuns",
            {"logical_date": None, "conf": conf},
        )
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/v2/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}"))

    def run_states(self, dag_id: str) -> dict[str, str]:
        """run_id -> state of every run of the DAG, a page of 100 at a time (cheaper than one call a run)."""
        states: dict[str, str] = {}
        offset = 0
        while True:
            page = self.call("GET", f"/api/v2/dags/{self.q(dag_id)}/dagRuns?limit=100&offset={offset}")
            for run in page["dag_runs"]:
                states[run["dag_run_id"]] = run["state"]
            offset += len(page["dag_runs"])
            if not page["dag_runs"] or offset >= page["total_entries"]:
                return states

    def wait_for_runs(self, dag_id: str, run_ids: Iterable[str], timeout: float) -> dict[str, str]:
        """Poll until every run is success/failed; returns run_id -> state."""
        wanted = set(run_ids)
        deadline = time.monotonic() + timeout
        while True:
            states = {r: s for r, s in self.run_states(dag_id).items() if r in wanted}
            pending = {r for r in wanted if states.get(r) not in FINISHED}
            if not pending:
                return states
            if time.monotonic() > deadline:
                detail = {r: self.task_states(dag_id, r) for r in sorted(pending)[:3]}
                raise AssertionError(f"{len(pending)} runs of {dag_id} not finished in {timeout} s: {detail}")
            time.sleep(2)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        body = self.call(
            "GET", f"/api/v2/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances?limit=100"
        )
        return {ti["task_id"]: ti["state"] for ti in body["task_instances"]}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(
            self.call(
                "GET",
                f"/api/v2/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}",
            )
        )

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.call(
            "GET",
            f"/api/v2/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/"
            f"{self.q(task_id)}/xcomEntries/{self.q(key)}",
        )
        value = entry["value"]
        # The API returns the stored JSON; older servers return it as a string.
        return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value

    def workflow_result(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result = self.xcom(dag_id, run_id, "workflow_result")
        assert isinstance(result, dict), f"workflow_result XCom of {run_id}: {result!r}"
        return result


@dataclass
class ClusterHandle:
    stack: Any  # scripts/cluster's Cluster
    rest: AirflowRest
    workspace: Path
    calls_file: Path

    def calls(self, key_prefix: str = "") -> list[dict[str, Any]]:
        """Calls of the ``test`` actions (tests/wfo_test_actions.py) made on the workers."""
        if not self.calls_file.exists():
            return []
        found = [json.loads(line) for line in self.calls_file.read_text().splitlines() if line.strip()]
        return [c for c in found if str(c.get("key", "")).startswith(key_prefix)]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        """Workflow events of one run, as the jsonl event sink wrote them (all processes, one file)."""
        path = self.workspace / "events.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [e for e in found if e.get("runId") == run_id]

    def logs_hint(self) -> str:
        return f"(stack logs: {self.stack.s.logs})"


def _require_cluster() -> bool:
    return os.environ.get("WFO_REQUIRE_CLUSTER", "") not in ("", "0", "false", "False")


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[ClusterHandle]:
    script = load_cluster_script()
    session = os.getpid()
    home = Path(tempfile.gettempdir()) / f"wfo-cluster-test-{session}"
    settings = script.Settings(
        home=home,
        db=f"wfo_cluster_test_{session}",
        port=script.free_port_block(28180),
        redis_url="redis://127.0.0.1:6379/6",
        queue=f"wfo-test-{session}",
        extra_dags=[TEST_DAGS],
        extra_env={
            "WFO_TEST_CALLS": str(home / "workspace" / "test-calls.jsonl"),
            # Every component (scheduler: run events; workers: step events) appends to one file.
            "AIRFLOW__WFO__EVENT_SINKS": f"log,jsonl:{home / 'workspace' / 'events.jsonl'}",
        },
    )
    stack = script.Cluster(settings)
    try:
        stack.check_services()
    except script.ServicesUnavailable as exc:
        message = f"cluster tests need Postgres and Redis on this machine: {exc}"
        if _require_cluster():
            pytest.fail(f"{message} (WFO_REQUIRE_CLUSTER=1 forbids skipping)", pytrace=False)
        pytest.skip(message)
    started = time.monotonic()
    failed_before = request.session.testsfailed
    try:
        stack.up(timeout=300)
        print(f"\n[cluster] up in {time.monotonic() - started:.0f} s at {stack.url}", file=sys.stderr)
        yield ClusterHandle(
            stack=stack,
            rest=AirflowRest(stack.url),
            workspace=settings.workspace,
            calls_file=Path(settings.extra_env["WFO_TEST_CALLS"]),
        )
    finally:
        stack.down(drop_db=True)
        if request.session.testsfailed == failed_before:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"\n[cluster] logs kept in {settings.logs}", file=sys.stderr)
