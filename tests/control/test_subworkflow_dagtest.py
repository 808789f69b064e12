"""``workflow.run`` through real Airflow: ``TriggerDagRunOperator`` triggers the child DAG and the
parent waits deferrably; under ``dag.test`` the child run is run by Airflow's ``dag.test`` in its own
process (``local/child_run.py``). The child's steps call a local HTTP stand-in (that process does
not have the ``test`` actions), the parent's the ``test`` actions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow


@pytest.fixture
def shop() -> Iterator[Any]:
    """``POST /reserve`` and ``DELETE /reserve/<ref>`` succeed; ``POST /charge`` fails (402)."""
    from pytest_httpserver import HTTPServer
    from werkzeug.wrappers import Request, Response

    seen: list[tuple[str, str]] = []

    def handler(request: Request) -> Response:
        seen.append((request.method, request.path))
        if request.path == "/charge":
            return Response(
                json.dumps({"error": "card declined"}), status=402, content_type="application/json"
            )
        body = request.get_json(silent=True) or {}
        return Response(
            json.dumps({"ref": body.get("ref", "R-1"), "ok": True}), content_type="application/json"
        )

    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/reserve", method="POST").respond_with_handler(handler)
    server.expect_request("/reserve/R-9", method="DELETE").respond_with_handler(handler)
    server.expect_request("/charge", method="POST").respond_with_handler(handler)
    server.start()
    server.seen = seen  # type: ignore[attr-defined]
    yield server
    server.clear()
    server.stop()


def _child(shop: Any, *, charge: bool) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {
            "id": "reserve",
            "target": "http",
            "action": "request",
            "retryCount": 0,
            "params": {"method": "POST", "url": shop.url_for("/reserve"), "json": {"ref": "$ref"}},
            "rollback": {
                "target": "http",
                "action": "request",
                "retryCount": 0,
                "params": {"method": "DELETE", "url": shop.url_for("/reserve/${reserve.body.ref}")},
            },
        },
    ]
    if charge:
        steps.append(
            {
                "id": "charge",
                "target": "http",
                "action": "request",
                "retryCount": 0,
                "params": {"method": "POST", "url": shop.url_for("/charge"), "json": {"ref": "$ref"}},
            }
        )
    return {"id": "sub_booking" if not charge else "sub_booking_paid", "name": "Sub booking", "steps": steps}


def _parent(child_id: str, *, fail_after: bool) -> dict[str, Any]:
    return {
        "id": f"parent_of_{child_id}" + ("_late" if fail_after else ""),
        "name": "Parent",
        "steps": [
            {
                "id": "book",
                "target": "workflow",
                "action": "run",
                "params": {"workflowId": child_id, "conf": {"ref": "$ref"}},
                "rollback": {
                    "target": "test",
                    "action": "undo",
                    "retryCount": 0,
                    "retryDelay": 0,
                    "params": {"child": "${book.workflowId}", "status": "$book.status"},
                },
            },
            {
                "id": "after",
                "target": "test",
                "action": "do",
                "retryDelay": 0,
                "params": {"childStatus": "$book.status", **({"fail": "fatal"} if fail_after else {})},
            },
        ],
    }


def _run(defn: dict[str, Any], child: dict[str, Any], conf: dict[str, Any]) -> Any:
    from airflow_provider_wfo.local.runner import run_workflow

    return run_workflow(defn, conf, workflows=[child])


def test_a_sub_workflow_runs_and_its_result_is_the_steps(
    dags_folder: Path, wfo_calls: Any, shop: Any
) -> None:
    child = _child(shop, charge=False)
    outcome = _run(_parent(child["id"], fail_after=False), child, {"ref": "R-9"})
    result = outcome.result
    assert result.status == WorkflowStatus.COMPLETED, result.error
    book = result.steps[0].result.data
    assert book["workflowId"] == "sub_booking" and book["status"] == "COMPLETED"
    assert book["steps"][0]["result"]["data"]["body"] == {"ref": "R-9", "ok": True}
    assert [c["params"]["childStatus"] for c in wfo_calls.read() if c["step"] == "after"] == ["COMPLETED"]
    assert shop.seen == [("POST", "/reserve")]


def test_a_completed_child_is_compensated_by_the_steps_rollback(
    dags_folder: Path, wfo_calls: Any, shop: Any
) -> None:
    child = _child(shop, charge=False)
    outcome = _run(_parent(child["id"], fail_after=True), child, {"ref": "R-9"})
    result = outcome.result
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert result.steps[0].status == StepStatus.ROLLED_BACK
    undo = [c for c in wfo_calls.read() if c["action"] == "undo"]
    assert [(c["step"], c["params"]) for c in undo] == [
        ("book", {"child": "sub_booking", "status": "COMPLETED"})
    ]


def test_a_child_that_rolled_back_fails_the_step(dags_folder: Path, wfo_calls: Any, shop: Any) -> None:
    child = _child(shop, charge=True)
    outcome = _run(_parent(child["id"], fail_after=False), child, {"ref": "R-9"})
    result = outcome.result
    assert result.status == WorkflowStatus.FAILED  # nothing of the parent's completed to undo
    step = result.steps[0]
    assert step.status == StepStatus.FAILED
    assert "sub-workflow 'sub_booking_paid'" in (step.error or "") and "ROLLED_BACK" in (step.error or "")
    assert shop.seen == [("POST", "/reserve"), ("POST", "/charge"), ("DELETE", "/reserve/R-9")]
    assert [c["step"] for c in wfo_calls.read()] == []


def test_wfo_run_brings_the_called_definitions_of_its_folder(
    tmp_path: Path, dags_folder: Path, wfo_calls: Any, capfd: Any
) -> None:
    from airflow_provider_wfo.cli import main

    child = {
        "id": "sub_pause",
        "name": "Sub pause",
        "steps": [{"id": "pause", "target": "wait", "action": "delay", "params": {"duration": 10}}],
    }
    parent = {
        "id": "parent_cli",
        "name": "Parent CLI",
        "steps": [
            {"id": "sub", "target": "workflow", "action": "run", "params": {"workflowId": "sub_pause"}},
            {"id": "after", "target": "test", "action": "do", "params": {"s": "$sub.status"}},
        ],
    }
    (tmp_path / "child.json").write_text(json.dumps(child))
    (tmp_path / "parent.json").write_text(json.dumps(parent))
    assert main(["run", str(tmp_path / "parent.json"), "--json"]) == 0
    result = json.loads(capfd.readouterr().out)
    assert result["status"] == "COMPLETED"
    assert result["steps"][0]["result"]["data"]["workflowId"] == "sub_pause"
    assert [c["params"] for c in wfo_calls.read()] == [{"s": "COMPLETED"}]


def test_answers_reach_the_approvals_of_a_local_sub_workflow(dags_folder: Path, wfo_calls: Any) -> None:
    from airflow_provider_wfo.local.answers import Answer
    from airflow_provider_wfo.local.runner import run_workflow

    child = {
        "id": "sub_approval",
        "name": "Sub approval",
        "steps": [{"id": "ok", "target": "approval", "action": "request", "params": {"subject": "Book it?"}}],
    }
    parent = {
        "id": "parent_of_sub_approval",
        "name": "Parent",
        "steps": [
            {"id": "sub", "target": "workflow", "action": "run", "params": {"workflowId": "sub_approval"}}
        ],
    }
    result = run_workflow(parent, {}, workflows=[child], answers={"ok": Answer(False, "not now")}).result
    assert result.status == WorkflowStatus.FAILED
    assert "ended FAILED" in (result.error or "") and "not now" in (result.error or "")
