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

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.prebuilt.rest import AirflowRest
from bench.env import ROOT, load_cluster_script  # noqa: F401  (ROOT: for the test modules)

TEST_DAGS = Path(__file__).resolve().parent / "dags"


class ClusterRest(AirflowRest):
    """The product's REST client (``prebuilt/rest.py``, on ``apache-airflow-client``) for the stack's
    api-server, logged in as the stack's user, with the waits and reads the tests share."""

    def __init__(self, url: str) -> None:
        super().__init__(url, username="wfo", password="wfo")

    def wait_for_dag(self, dag_id: str, timeout: float = 120, interval: float = 1.0) -> dict[str, Any]:
        return super().wait_for_dag(dag_id, timeout, interval)

    def plugin_api(self, path: str) -> Any:
        """GET a path of the wfo plugin's own API (not part of Airflow's, so no generated method): plain
        HTTP with the same token, as a user's script would call it."""
        status, body = self.http("GET", path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def workflow_result(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result = self.xcom(dag_id, run_id, "workflow_result")
        assert isinstance(result, dict), f"workflow_result XCom of {run_id}: {result!r}"
        return result


@dataclass
class ClusterHandle:
    stack: Any  # scripts/cluster's Cluster
    rest: ClusterRest
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


# Package scope: the stack stops after the last cluster test instead of loading every later test.
@pytest.fixture(scope="package")
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
            rest=ClusterRest(stack.url),
            workspace=settings.workspace,
            calls_file=Path(settings.extra_env["WFO_TEST_CALLS"]),
        )
    finally:
        stack.down(drop_db=True)
        if request.session.testsfailed == failed_before:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"\n[cluster] logs kept in {settings.logs}", file=sys.stderr)
