"""``wait.delay`` and ``wait.poll`` through real Airflow (``dag.test`` runs the trigger inline)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow


def _do(step_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "target": "test",
        "action": "do",
        "retryDelay": 0,
        "rollback": {
            "target": "test",
            "action": "undo",
            "retryCount": 0,
            "retryDelay": 0,
            "params": {"of": f"${{{step_id}.id}}"},
        },
        **extra,
    }


def test_delay_waits_and_resumes_with_its_moments(run_workflow: Any, wfo_calls: Any) -> None:
    # 1.5 s is slept in the worker (no longer than RESUME_SETTLE); the wait until 13 s from now defers.
    until = (datetime.now(timezone.utc) + timedelta(seconds=13)).isoformat()
    result = run_workflow(
        {
            "id": "wait_delay",
            "name": "Wait delay",
            "steps": [
                {"id": "pause", "target": "wait", "action": "delay", "params": {"duration": 1500}},
                {"id": "until", "target": "wait", "action": "delay", "params": {"until": "$when"}},
                _do("after", params={"waited": "$until.waitedUntil"}),
            ],
        },
        {"when": until},
    )
    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert run_workflow.last.task_states["pause"] == "success"
    pause = result.steps[0].result.data
    assert datetime.fromisoformat(pause["resumedAt"]) >= datetime.fromisoformat(pause["waitedUntil"])
    assert result.steps[1].result.data["waitedUntil"] == until
    assert datetime.fromisoformat(result.steps[1].result.data["resumedAt"]) >= datetime.fromisoformat(until)
    assert [c["params"]["waited"] for c in wfo_calls.read() if c["action"] == "do"] == [until]


def test_delay_until_a_naive_time_fails_without_retrying(run_workflow: Any, wfo_calls: Any) -> None:
    result = run_workflow(
        {
            "id": "wait_naive",
            "name": "Wait naive",
            "steps": [
                _do("first"),
                {
                    "id": "until",
                    "target": "wait",
                    "action": "delay",
                    "retryCount": 3,
                    "params": {"until": "$when"},
                },
            ],
        },
        {"when": "2030-01-01T09:00:00"},
    )
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert result.steps[1].status == StepStatus.FAILED
    assert "no UTC offset" in (result.steps[1].error or "")
    assert result.steps[1].attempts == 1
    assert [c["action"] for c in wfo_calls.read()] == ["do", "undo"]


@pytest.fixture
def status_server() -> Any:
    """A job-status API: 'running' for the first two GETs, then 'done'; records each request."""
    from pytest_httpserver import HTTPServer
    from werkzeug.wrappers import Request, Response

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        state = "done" if len(seen) >= 3 else "running"
        return Response(
            json.dumps({"job": request.args.get("job"), "state": state}), content_type="application/json"
        )

    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/jobs/status").respond_with_handler(handler)
    server.start()
    server.seen = seen  # type: ignore[attr-defined]
    yield server
    server.clear()
    server.stop()


def test_poll_until_the_condition_holds(run_workflow: Any, wfo_calls: Any, status_server: Any) -> None:
    result = run_workflow(
        {
            "id": "wait_poll",
            "name": "Wait poll",
            "steps": [
                _do("start"),
                {
                    "id": "poll",
                    "target": "wait",
                    "action": "poll",
                    "params": {
                        "url": status_server.url_for("/jobs/status"),
                        "query": {"job": "$start.id"},
                        "until": {
                            "and": [
                                {"==": ["$response.status", 200]},
                                {"==": ["$response.body.state", "done"]},
                                {"==": ["$response.body.job", "$start.id"]},
                            ]
                        },
                        "interval": 1000,
                        "timeout": 120000,
                    },
                },
                _do("report", params={"state": "$poll.body.state", "polls": "$poll.polls"}),
            ],
        }
    )
    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert len(status_server.seen) == 3
    assert {r.args["job"] for r in status_server.seen} == {"id-start"}
    report = next(c for c in wfo_calls.read() if c["step"] == "report")
    assert report["params"] == {"state": "done", "polls": 3}


def test_poll_timeout_fails_the_step_and_the_saga_rolls_back(
    run_workflow: Any, wfo_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a connection (credentials read by the trigger itself): the job never finishes."""
    from pytest_httpserver import HTTPServer
    from werkzeug.wrappers import Request, Response

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps({"state": "running"}), content_type="application/json")

    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/api/jobs/7").respond_with_handler(handler)
    server.start()
    try:
        monkeypatch.setenv(
            "AIRFLOW_CONN_WFO_JOBS",
            json.dumps(
                {
                    "conn_type": "http",
                    "host": "127.0.0.1",
                    "port": server.port,
                    "schema": "http",
                    "login": "robot",
                    "password": "poll-s3cret-pw",
                }
            ),
        )
        result = run_workflow(
            {
                "id": "wait_poll_timeout",
                "name": "Wait poll timeout",
                "steps": [
                    _do("start"),
                    {
                        "id": "poll",
                        "target": "wait",
                        "action": "poll",
                        "connId": "wfo_jobs",
                        "retryCount": 2,
                        "params": {
                            "endpoint": "/api/jobs/7",
                            "until": "$response.body.finished",
                            "interval": 1000,
                            "timeout": 2500,
                        },
                    },
                    _do("never"),
                ],
            }
        )
    finally:
        server.stop()
    assert result.status == WorkflowStatus.ROLLED_BACK
    poll = result.steps[1]
    assert poll.status == StepStatus.FAILED
    assert poll.attempts == 1  # a timeout is the whole budget: no retry
    assert "wait timed out after" in (poll.error or "")
    assert "could not be evaluated" in (poll.error or "")  # 'finished' never appeared
    assert 2 <= len(seen) <= 4
    assert all(r.authorization and r.authorization.username == "robot" for r in seen)
    assert result.steps[2].status == StepStatus.SKIPPED
    assert [c["action"] for c in wfo_calls.read()] == ["do", "undo"]
    assert "poll-s3cret-pw" not in json.dumps(result.model_dump(mode="json"))
