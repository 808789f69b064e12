"""End to end on the real distributed stack (see conftest.py): runs are triggered through the REST
API exactly as a user's client would, and executed by Celery workers in other processes."""

from __future__ import annotations

import collections
import csv
import json
import shutil

import pytest

from airflow_provider_wfo.prebuilt.rest import q

from .conftest import ROOT, ClusterHandle

pytestmark = pytest.mark.cluster

SAGA = "wfo_cluster_saga"


def _steps(result: dict) -> dict[str, dict]:
    return {s["stepId"]: s for s in result["steps"]}


def test_saga_completes(cluster: ClusterHandle) -> None:
    rest = cluster.rest
    rest.wait_for_dag(SAGA)
    run_id = rest.trigger(SAGA, {"orderId": "ORD-1", "chargeFail": "no"})
    assert rest.wait_for_runs(SAGA, [run_id], timeout=180) == {run_id: "success"}, cluster.logs_hint()

    result = rest.workflow_result(SAGA, run_id)
    assert result["status"] == "COMPLETED", result
    assert result["success"] is True
    assert result["runId"] == run_id
    steps = _steps(result)
    assert [s["stepId"] for s in result["steps"]] == ["reserve", "charge", "notify"]
    assert all(s["status"] == "COMPLETED" for s in steps.values()), steps
    assert steps["reserve"]["result"]["data"]["echo"] == {"order": "ORD-1"}
    # References resolved on the worker from the run conf and an upstream step's XCom.
    assert steps["notify"]["result"]["data"]["echo"]["text"] == "order ORD-1 done, reservation id-reserve"

    calls = cluster.calls(f"{SAGA}:{run_id}:")
    assert [(c["action"], c["step"]) for c in calls] == [
        ("do", "reserve"),
        ("do", "charge"),
        ("do", "notify"),
    ]
    assert {c["key"] for c in calls} == {f"{SAGA}:{run_id}:{s}" for s in ("reserve", "charge", "notify")}

    states = rest.task_states(SAGA, run_id)
    assert states["workflow_result"] == "success"
    assert states["compensate.reserve"] == "skipped"


def test_saga_rolls_back(cluster: ClusterHandle) -> None:
    rest = cluster.rest
    rest.wait_for_dag(SAGA)
    run_id = rest.trigger(SAGA, {"orderId": "ORD-2", "chargeFail": "always"})
    # The result task fails the DagRun unless COMPLETED, so Airflow's own alerting sees the failure.
    assert rest.wait_for_runs(SAGA, [run_id], timeout=180) == {run_id: "failed"}, cluster.logs_hint()

    result = rest.workflow_result(SAGA, run_id)
    assert result["status"] == "ROLLED_BACK", result
    assert result["success"] is False
    assert result["rollbackPerformed"] is True
    assert result["failedStep"] == "charge"
    steps = _steps(result)
    assert steps["charge"]["status"] == "FAILED"
    assert steps["charge"]["attempts"] == 2  # retryCount 1: Airflow retried it once
    assert steps["reserve"]["status"] == "ROLLED_BACK"
    assert steps["notify"]["status"] == "SKIPPED"

    calls = cluster.calls(f"{SAGA}:{run_id}:")
    assert [(c["action"], c["step"], c["attempt"]) for c in calls] == [
        ("do", "reserve", 1),
        ("do", "charge", 1),
        ("do", "charge", 2),
        ("undo", "reserve", 1),
    ]
    undo = calls[-1]
    assert undo["key"] == f"{SAGA}:{run_id}:reserve:rollback"
    assert undo["params"] == {"id": "id-reserve", "order": "ORD-2"}
    assert collections.Counter(c["key"] for c in calls)[f"{SAGA}:{run_id}:charge"] == 2

    # The audit trail, as the api-server serves it (wfo plugin, Airflow auth) ...
    trace = rest.plugin_api(f"/wfo/api/dags/{SAGA}/runs/{q(run_id)}/trace")
    assert trace["status"] == "ROLLED_BACK" and trace["failedStep"] == "charge"
    assert trace["rollbackPerformed"] is True
    traced = {t["stepId"]: t for t in trace["steps"]}
    assert [a["attempt"] for a in traced["charge"]["attempts"]] == [1, 2]
    assert all("planned failure" in (a["error"] or "") for a in traced["charge"]["attempts"])
    assert trace["compensations"]["reserve"]["state"] == "success"
    assert "charge" not in trace["compensations"] or trace["compensations"]["charge"]["state"] == "skipped"
    # ... and the events every process emitted (scheduler and both workers write one jsonl file).
    events = cluster.events(run_id)
    types = {e["type"] for e in events}
    about = {(e["type"], e.get("stepId")) for e in events}
    assert {"workflow:started", "rollback:started", "rollback:completed", "workflow:failed"} <= types, types
    assert {
        ("step:completed", "reserve"),
        ("step:retrying", "charge"),
        ("step:failed", "charge"),
        ("step:rolled_back", "reserve"),
    } <= about, sorted(about, key=str)


INVOICE = "wfo_invoice"
SAMPLE_INVOICE = ROOT / "examples" / "sample-invoice.pdf"


def test_prebuilt_invoice(cluster: ClusterHandle) -> None:
    """The pre-built invoice workflow, loaded from the repo's dags/ by the cluster's dag-processor."""
    rest = cluster.rest
    rest.wait_for_dag(INVOICE)
    inbox = cluster.workspace / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    staged = inbox / "acme-001.pdf"
    shutil.copyfile(SAMPLE_INVOICE, staged)
    conf = {
        "fileName": "Invoice-Acme-001.pdf",
        "filePath": str(staged),
        "vendor": "Acme Corp",
        "amount": 1500.0,
        "dueDate": "2026-12-31",
        "spreadsheetId": "invoice-tracking",
    }
    run_id = rest.trigger(INVOICE, conf)
    assert rest.wait_for_runs(INVOICE, [run_id], timeout=180) == {run_id: "success"}, cluster.logs_hint()

    result = rest.workflow_result(INVOICE, run_id)
    assert result["status"] == "COMPLETED", result
    steps = _steps(result)
    assert {k: v["status"] for k, v in steps.items()} == {
        "file-drive": "COMPLETED",
        "approve-payment": "SKIPPED",  # 1500 is below the approvalThreshold (10000)
        "update-sheet": "COMPLETED",
        "notify-accounting": "COMPLETED",
    }
    # Side effects in the cluster's shared workspace (the local backends).
    filed = cluster.workspace / "drive" / "Invoices" / "Invoice-Acme-001.pdf"
    assert filed.read_bytes() == SAMPLE_INVOICE.read_bytes()
    assert steps["file-drive"]["result"]["data"]["name"] == "Invoice-Acme-001.pdf"
    sheet = cluster.workspace / "sheets" / "invoice-tracking"
    rows = [r for f in sorted(sheet.glob("*.csv")) for r in csv.reader(f.open())]
    matching = [r for r in rows if "Acme Corp" in r]
    assert len(matching) == 1, rows
    assert "2026-12-31" in matching[0] and "Pending" in matching[0]
    assert any(cell.startswith("1500") for cell in matching[0]), matching
    messages = [
        json.loads(line)
        for line in (cluster.workspace / "slack" / "outbox.jsonl").read_text().splitlines()
        if line.strip()
    ]
    mine = [m for m in messages if m.get("idempotencyKey") == f"{INVOICE}:{run_id}:notify-accounting"]
    assert len(mine) == 1, messages
    assert mine[0]["channel"].lstrip("#") == "accounting"


MANY = "wfo_cluster_many"
RUNS = 50
FAILING = set(range(0, RUNS, 5))  # every fifth run fails its last step and rolls back


def test_fifty_workflows_at_once(cluster: ClusterHandle) -> None:
    rest = cluster.rest
    rest.wait_for_dag(MANY)
    runs: dict[str, int] = {}
    for n in range(RUNS):
        conf = {"n": f"{n:02d}", "fail": "always" if n in FAILING else "no"}
        runs[rest.trigger(MANY, conf)] = n

    states = rest.wait_for_runs(MANY, runs, timeout=420)
    expected_states = {r: "failed" if n in FAILING else "success" for r, n in runs.items()}
    assert states == expected_states, cluster.logs_hint()

    for run_id, n in runs.items():
        result = rest.workflow_result(MANY, run_id)
        steps = _steps(result)
        assert result["runId"] == run_id
        assert steps["file"]["result"]["data"]["name"] == f"Doc-{n:02d}.txt"
        if n in FAILING:
            assert result["status"] == "ROLLED_BACK", (n, result)
            assert result["failedStep"] == "check"
            assert steps["file"]["status"] == "ROLLED_BACK"
        else:
            assert result["status"] == "COMPLETED", (n, result)
            assert all(s["status"] == "COMPLETED" for s in steps.values()), (n, steps)

    # Side effects in the shared workspace: each completed run left exactly its document, each
    # rolled-back run none; every step ran exactly once.
    # (Only the Doc-* files: the repo's dags/ hold scheduled workflows that may file reports too.)
    reports = sorted(p.name for p in (cluster.workspace / "drive" / "Reports").glob("Doc-*"))
    assert reports == sorted(f"Doc-{n:02d}.txt" for n in range(RUNS) if n not in FAILING)
    checks = collections.Counter(c["key"] for c in cluster.calls(f"{MANY}:"))
    assert checks == {f"{MANY}:{run_id}:check": 1 for run_id in runs}
