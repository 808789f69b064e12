"""Control steps on a real deployment: api-server, scheduler, dag-processor and triggerer processes,
LocalExecutor with 2 worker slots (``[core] parallelism``), SQLite.

* An approval is answered over Airflow's REST API (``PATCH .../hitlDetails``): approved in one run,
  which continues, rejected in another, which rolls back.
* Three ``wait.poll`` steps wait on the triggerer while an ordinary step runs beside them: with two
  worker slots that is only possible if a waiting step holds none.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "events"))
from wfo_events_stack import USER, Stack

from airflow_provider_wfo.operators.wait import RESUME_SETTLE

pytestmark = pytest.mark.slow

APPROVAL_DAG = "ctl_stack_approval"
WAIT_DAG = "ctl_stack_waits"
WAITS = ("wait_a", "wait_b", "wait_c")
PARENT_DAG = "ctl_stack_parent"
CHILD_DAG = "ctl_stack_child"


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


def _definitions(status_url: str) -> list[dict[str, Any]]:
    approval = {
        "id": APPROVAL_DAG,
        "name": "Approval over REST",
        "steps": [
            _do("book", params={"ref": "$ref"}),
            {
                "id": "approve",
                "target": "approval",
                "action": "request",
                "params": {"subject": "Pay for ${book.echo.ref}?", "assignees": [USER]},
            },
            _do("pay", params={"ref": "$ref", "by": "$approve.by"}),
        ],
    }
    waits = {
        "id": WAIT_DAG,
        "name": "Waits hold no slot",
        "steps": [
            *(
                {
                    "id": w,
                    "target": "wait",
                    "action": "poll",
                    "dependsOn": [],
                    "params": {
                        "url": status_url,
                        "until": {"==": ["$response.body.state", "done"]},
                        "interval": 1000,
                        "timeout": 600_000,
                    },
                }
                for w in WAITS
            ),
            {"id": "work", "target": "test", "action": "do", "dependsOn": [], "params": {"id": "w"}},
        ],
    }
    child = {
        "id": CHILD_DAG,
        "name": "Child",
        "steps": [_do("reserve", params={"ref": "$ref"})],
    }
    parent = {
        "id": PARENT_DAG,
        "name": "Parent",
        "steps": [
            {
                "id": "sub",
                "target": "workflow",
                "action": "run",
                "params": {"workflowId": CHILD_DAG, "conf": {"ref": "$ref"}},
            },
            _do("after", params={"ref": "$ref", "childStatus": "$sub.status"}),
        ],
    }
    return [approval, waits, child, parent]


@pytest.fixture(scope="module")
def status() -> Iterator[Any]:
    """A job-status API the waits poll: ``running`` until the test sets ``state`` to ``done``."""
    from pytest_httpserver import HTTPServer
    from werkzeug.wrappers import Request, Response

    server = HTTPServer(host="127.0.0.1")
    server.state = "running"  # type: ignore[attr-defined]

    def handler(request: Request) -> Response:
        return Response(json.dumps({"state": server.state}), content_type="application/json")  # type: ignore[attr-defined]

    server.expect_request("/status").respond_with_handler(handler)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def stack(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory, status: Any) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("wfo-control-stack")
    template = Path(os.environ.get("WFO_TEST_CACHE", "/tmp/wfo-test-cache"))
    db = next(iter(sorted(template.glob("airflow-*.db"))), airflow_db) if template.exists() else airflow_db
    s = Stack(home, db, _definitions(status.url_for("/status")))
    try:
        s.start(triggerer=True)
        s.wait_for_dag(APPROVAL_DAG)
        s.wait_for_dag(WAIT_DAG)
        s.wait_for_dag(CHILD_DAG)
        s.wait_for_dag(PARENT_DAG)
        yield s
    finally:
        s.stop()


def _ti_state(stack: Stack, dag_id: str, run_id: str, task_id: str) -> str | None:
    code, body = stack.request(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns/{stack.q(run_id)}/taskInstances/{task_id}"
    )
    return body.get("state") if code == 200 else None


def _wait_state(
    stack: Stack, dag_id: str, run_id: str, task_id: str, state: str, timeout: float = 240
) -> None:
    deadline = time.monotonic() + timeout
    while (now := _ti_state(stack, dag_id, run_id, task_id)) != state:
        stack._check_alive()
        assert now not in ("failed", "success", "skipped", "upstream_failed"), f"{task_id} ended {now}"
        assert time.monotonic() < deadline, f"{task_id} never reached {state} (is {now})"
        time.sleep(1)


def _xcom(stack: Stack, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    code, body = stack.request(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns/{stack.q(run_id)}/taskInstances/{task_id}/xcomEntries/{key}"
    )
    assert code == 200, body
    value = body["value"]
    return json.loads(value) if isinstance(value, str) else value


def _result(stack: Stack, dag_id: str, run_id: str) -> dict[str, Any]:
    result = _xcom(stack, dag_id, run_id, "workflow_result", "return_value")
    assert isinstance(result, dict), result
    return result


def _wait_exit_taken(stack: Stack, run_id: str, task_id: str, timeout: float = 120) -> None:
    """Until the scheduler has taken the end of the attempt that deferred or paused for input.

    Airflow 3.3 races here (apache/airflow#67287, #72716): a trigger that fires, or an answer that
    arrives, before the executor's event for the paused attempt re-queues the task, and the late
    "success" event then finds it queued or running and fails it ("Executor ... reported that the task
    instance ... finished with state success"). The product holds a wait's event back for
    ``RESUME_SETTLE`` (operators/wait.py), which covers a normal scheduler; a person never answers
    within that time. On a loaded test machine the lag can pass it, so a test that controls the
    moment waits for the scheduler's own log line."""
    wanted = ("Received executor event with state success", f"task_id='{task_id}'", f"run_id='{run_id}'")
    log = stack.home / "scheduler.log"
    deadline = time.monotonic() + timeout
    while not (log.exists() and any(all(w in line for w in wanted) for line in log.read_text().splitlines())):
        stack._check_alive()
        assert time.monotonic() < deadline, f"the scheduler never took {task_id}'s paused attempt; see {log}"
        time.sleep(0.5)


def _answer(stack: Stack, run_id: str, option: str, comment: str) -> dict[str, Any]:
    _wait_exit_taken(stack, run_id, "approve")
    path = f"/api/v2/dags/{APPROVAL_DAG}/dagRuns/{stack.q(run_id)}/taskInstances/approve/-1/hitlDetails"
    code, body = stack.request(
        "PATCH", path, {"chosen_options": [option], "params_input": {"comment": comment}}
    )
    assert code == 200, body
    return body


def _calls(stack: Stack, run_id: str) -> list[tuple[str, str]]:
    if not stack.calls_file.exists():
        return []
    found = [json.loads(line) for line in stack.calls_file.read_text().splitlines() if line.strip()]
    return [(c["action"], c["step"]) for c in found if run_id in c["key"]]


def test_approved_over_the_rest_api(stack: Stack) -> None:
    run_id = stack.trigger(APPROVAL_DAG, {"ref": "B-7"})
    _wait_state(stack, APPROVAL_DAG, run_id, "approve", "awaiting_input")
    code, detail = stack.request(
        "GET", f"/api/v2/dags/{APPROVAL_DAG}/dagRuns/{stack.q(run_id)}/taskInstances/approve/-1/hitlDetails"
    )
    assert code == 200 and detail["subject"] == "Pay for B-7?", detail  # resolved, not the template
    assert [u["id"] for u in detail["assigned_users"]] == [USER]
    _answer(stack, run_id, "Approve", "fine")
    assert stack.wait_for_run(APPROVAL_DAG, run_id) == "success"
    result = _result(stack, APPROVAL_DAG, run_id)
    assert result["status"] == "COMPLETED"
    answer = result["steps"][1]["result"]["data"]
    assert answer["approved"] is True and answer["by"] == USER and answer["comment"] == "fine"
    assert _calls(stack, run_id) == [("do", "book"), ("do", "pay")]


def test_rejected_over_the_rest_api_rolls_back(stack: Stack) -> None:
    run_id = stack.trigger(APPROVAL_DAG, {"ref": "B-8"})
    _wait_state(stack, APPROVAL_DAG, run_id, "approve", "awaiting_input")
    _answer(stack, run_id, "Reject", "over budget")
    assert stack.wait_for_run(APPROVAL_DAG, run_id) == "failed"
    result = _result(stack, APPROVAL_DAG, run_id)
    assert result["status"] == "ROLLED_BACK"
    assert result["failedStep"] == "approve"
    assert f"rejected by {USER}: over budget" in result["steps"][1]["error"]
    assert _calls(stack, run_id) == [("do", "book"), ("undo", "book")]


def test_waiting_steps_hold_no_worker_slot(stack: Stack, status: Any) -> None:
    run_id = stack.trigger(WAIT_DAG, {})
    for wait in WAITS:
        _wait_state(stack, WAIT_DAG, run_id, wait, "deferred")
    # Three waits and one more task, two worker slots: the task runs while all three still wait.
    _wait_state(stack, WAIT_DAG, run_id, "work", "success")
    assert [_ti_state(stack, WAIT_DAG, run_id, w) for w in WAITS] == ["deferred"] * 3
    for wait in WAITS:
        _wait_exit_taken(stack, run_id, wait)
    status.state = "done"
    assert stack.wait_for_run(WAIT_DAG, run_id) == "success"
    result = _result(stack, WAIT_DAG, run_id)
    assert result["status"] == "COMPLETED"
    data = {s["stepId"]: s["result"]["data"] for s in result["steps"] if s["stepId"] in WAITS}
    assert {w: d["body"]["state"] for w, d in data.items()} == {w: "done" for w in WAITS}
    # No wait was released sooner than RESUME_SETTLE after it started waiting (operators/wait.py).
    for wait in WAITS:
        since = datetime.fromisoformat(_xcom(stack, WAIT_DAG, run_id, wait, "wfo_waiting")["since"])
        assert datetime.fromisoformat(data[wait]["resumedAt"]) >= since + RESUME_SETTLE, wait


def test_a_sub_workflow_runs_on_the_scheduler_and_triggerer(stack: Stack) -> None:
    run_id = stack.trigger(PARENT_DAG, {"ref": "S-1"})
    assert stack.wait_for_run(PARENT_DAG, run_id) == "success"
    result = _result(stack, PARENT_DAG, run_id)
    assert result["status"] == "COMPLETED", result
    sub = result["steps"][0]["result"]["data"]
    assert sub["workflowId"] == CHILD_DAG and sub["status"] == "COMPLETED"
    child_run = sub["runId"]
    assert stack.wait_for_run(CHILD_DAG, child_run) == "success"
    assert _calls(stack, child_run) == [("do", "reserve")]
    assert _calls(stack, run_id) == [("do", "after")]
