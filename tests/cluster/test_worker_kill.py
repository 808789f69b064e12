"""A Celery worker dies (SIGKILL, with the task processes it started) while it runs a step. Airflow
notices the missing heartbeats, retries the step on the other worker, and the run still ends
correctly: the document the killed attempt had filed is found again by its idempotency key, not
filed twice, and nothing is left half-done.

Runs last in the session (file order): it kills one of the two workers and starts it again."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import ClusterHandle

pytestmark = pytest.mark.cluster

KILL = "wfo_cluster_kill"


def _wait_for_marker(cluster: ClusterHandle, name: str, timeout: float) -> dict:
    marker = cluster.workspace / "holding" / f"{name}.json"
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert time.monotonic() < deadline, f"the step never reached its hold {cluster.logs_hint()}"
        time.sleep(0.5)
    return dict(json.loads(marker.read_text()))


def test_worker_sigkill_mid_step(cluster: ClusterHandle) -> None:
    rest, stack = cluster.rest, cluster.stack
    rest.wait_for_dag(KILL)
    run_id = rest.trigger(KILL, {"n": "K1"})

    # The step has filed its document and now holds: find the worker running it and kill it.
    holding = _wait_for_marker(cluster, "K1", timeout=120)
    task_pid = holding["pid"]
    contracts = cluster.workspace / "drive" / "Contracts"
    assert [p.name for p in contracts.glob("Contract-K1*")] == ["Contract-K1.txt"]
    owner = [i for i in (1, 2) if task_pid in stack.family_of(f"worker-{i}")]
    assert len(owner) == 1, f"task pid {task_pid} not under exactly one worker: {owner}"
    killed = stack.kill_worker(owner[0])
    assert task_pid in killed

    try:
        states = rest.wait_for_runs(KILL, [run_id], timeout=240)
    finally:
        stack.start_worker(owner[0])  # leave two workers for whatever runs next
    assert states == {run_id: "success"}, cluster.logs_hint()

    result = rest.workflow_result(KILL, run_id)
    assert result["status"] == "COMPLETED", result
    steps = {s["stepId"]: s for s in result["steps"]}
    assert steps["file"]["status"] == "COMPLETED"
    # The attempt that finished is a retry (the killed one never reported), yet it returned the
    # document the killed attempt had filed.
    assert steps["file"]["result"]["data"]["attempt"] >= 2
    assert steps["file"]["result"]["data"]["fileId"] == holding["fileId"]
    ti = rest.task_instance(KILL, run_id, "file")
    assert ti["try_number"] >= 2 and ti["state"] == "success", ti

    # Exactly one document, one message; no rollback ran.
    assert [p.name for p in contracts.glob("Contract-K1*")] == ["Contract-K1.txt"]
    outbox = cluster.workspace / "slack" / "outbox.jsonl"
    mine = [
        json.loads(line)
        for line in outbox.read_text().splitlines()
        if line.strip() and json.loads(line).get("idempotencyKey", "").startswith(f"{KILL}:{run_id}:")
    ]
    assert len(mine) == 1, mine
    assert rest.task_states(KILL, run_id)["compensate.file"] == "skipped"
