"""The control-flow examples (examples/control/) run with the real connectors against local stand-ins:
the HTTP services are pytest-httpserver, Slack is the local workspace backend."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "control"


def outbox() -> list[dict[str, Any]]:
    path = Path(os.environ["WFO_WORKSPACE"]) / "slack" / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


@pytest.mark.parametrize(
    ("priority", "ran", "skipped"),
    [
        ("high", "high-priority-action", "normal-action"),
        ("low", "normal-action", "high-priority-action"),
    ],
)
def test_conditional_workflow_runs_one_of_the_two_notifications(
    run_workflow: Any, httpserver: HTTPServer, priority: str, ran: str, skipped: str
) -> None:
    httpserver.expect_request("/check", method="GET").respond_with_json({"priority": priority})
    sent_before = len(outbox())
    result = run_workflow(example("conditional-workflow.json"), {"checkUrl": httpserver.url_for("/check")})

    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert result.step(ran).status == StepStatus.COMPLETED
    assert result.step(skipped).status == StepStatus.SKIPPED
    assert result.step(skipped).reason == "condition false"
    sent = outbox()[sent_before:]
    assert [m["channel"] for m in sent] == ["urgent" if priority == "high" else "general"]
    if priority == "low":
        assert "Priority low: queued" in json.dumps(sent[0])


class BookingService:
    """Holds and bookings; ``full`` travellers get 503 on every attempt."""

    def __init__(self, full: set[str]) -> None:
        self.full = full
        self.bookings: dict[str, str] = {}
        self.cancelled: list[tuple[str, str]] = []
        self.holds: set[str] = set()
        self.released: list[str] = []
        self.undo_order: list[str] = []

    def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/v1/holds" and method == "POST":
            self.holds.add("H-1")
            return Response(json.dumps({"id": "H-1"}), 201, content_type="application/json")
        if path.startswith("/v1/holds/") and method == "DELETE":
            self.released.append(path.rsplit("/", 1)[1])
            self.undo_order.append("hold")
            return Response("", 204)
        if path == "/v1/bookings" and method == "POST":
            body = request.get_json()
            name = body["traveller"]
            if name in self.full:
                return Response(
                    json.dumps({"error": "no seat left in this fare"}), 503, content_type="application/json"
                )
            booking = f"B-{body['position']}-{name}"
            self.bookings[booking] = name
            return Response(
                json.dumps({"id": booking, "traveller": name}), 201, content_type="application/json"
            )
        if path.startswith("/v1/bookings/") and method == "DELETE":
            self.cancelled.append((path.rsplit("/", 1)[1], request.args.get("traveller", "")))
            self.undo_order.append("booking")
            return Response("", 204)
        return Response("not found", 404)


def booking_conf(httpserver: HTTPServer, names: list[str]) -> dict[str, Any]:
    return {"api": httpserver.url_for("/v1"), "flight": "LH123", "travellers": [{"name": n} for n in names]}


def test_group_booking_books_everyone(run_workflow: Any, httpserver: HTTPServer) -> None:
    service = BookingService(full=set())
    httpserver.expect_request("").respond_with_handler(service.handle)
    result = run_workflow(example("group-booking.json"), booking_conf(httpserver, ["Ann", "Bob", "Cy"]))

    assert result.status == WorkflowStatus.COMPLETED, result.error
    book = result.step("book-seat")
    assert [i.status for i in book.items or []] == [StepStatus.COMPLETED] * 3
    assert book.result is not None
    assert [r["body"]["traveller"] for r in book.result.data["items"]] == ["Ann", "Bob", "Cy"]
    assert sorted(service.bookings.values()) == ["Ann", "Bob", "Cy"] and service.cancelled == []


def test_group_booking_one_fails_and_the_others_are_cancelled(
    run_workflow: Any, httpserver: HTTPServer
) -> None:
    service = BookingService(full={"Cy"})
    httpserver.expect_request("").respond_with_handler(service.handle)
    result = run_workflow(example("group-booking.json"), booking_conf(httpserver, ["Ann", "Bob", "Cy"]))

    assert result.status == WorkflowStatus.ROLLED_BACK, result.error
    assert result.failed_step == "book-seat" and "503" in (result.error or "")
    book = result.step("book-seat")
    assert book.status == StepStatus.FAILED
    items = {i.index: i for i in book.items or []}
    assert items[2].status == StepStatus.FAILED and items[2].attempts == 2  # retried once, then for good
    assert items[0].status == items[1].status == StepStatus.ROLLED_BACK
    # each completed booking cancelled through its own rollback, with its own item
    assert sorted(service.cancelled) == [("B-0-Ann", "Ann"), ("B-1-Bob", "Bob")]
    assert service.released == ["H-1"]
    assert service.undo_order == ["booking", "booking", "hold"]  # the earlier step after the items
    assert result.step("hold-fare").status == StepStatus.ROLLED_BACK
    assert result.step("confirm").status == StepStatus.SKIPPED


class ProcessService:
    """A batch process API: the process is ``running`` for ``polls_until_done`` status reads (for ever
    when None), then ``completed``."""

    def __init__(self, polls_until_done: int | None) -> None:
        self.polls_until_done = polls_until_done
        self.calls: list[tuple[str, str]] = []

    def handle(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        if request.path == "/v1/processes" and request.method == "POST":
            return Response(json.dumps({"id": "P-1"}), 201, content_type="application/json")
        if request.path == "/v1/processes/P-1" and request.method == "GET":
            reads = sum(1 for c in self.calls if c == ("GET", "/v1/processes/P-1"))
            done = self.polls_until_done is not None and reads > self.polls_until_done
            return Response(
                json.dumps({"id": "P-1", "status": "completed" if done else "running"}),
                content_type="application/json",
            )
        if request.path == "/v1/processes/P-1/complete" and request.method == "POST":
            return Response(json.dumps({"id": "P-1", "final": True}), content_type="application/json")
        if request.path == "/v1/processes/P-1" and request.method == "DELETE":
            return Response("", 204)
        return Response("not found", 404)


def test_long_running_polls_on_the_triggerer_then_finalizes(
    run_workflow: Any, httpserver: HTTPServer
) -> None:
    service = ProcessService(polls_until_done=2)
    httpserver.expect_request("").respond_with_handler(service.handle)
    result = run_workflow(example("long-running.json"), {"api": httpserver.url_for("/v1")})

    assert result.status == WorkflowStatus.COMPLETED, result.error
    poll = result.step("poll-status")
    assert poll.result is not None and poll.result.data["polls"] == 3
    assert poll.result.data["body"]["status"] == "completed"
    assert poll.attempts == 1  # one attempt that waited, not ten retries
    assert service.calls == [
        ("POST", "/v1/processes"),
        *[("GET", "/v1/processes/P-1")] * 3,
        ("POST", "/v1/processes/P-1/complete"),
    ]


def test_long_running_timeout_cancels_the_started_process(run_workflow: Any, httpserver: HTTPServer) -> None:
    service = ProcessService(polls_until_done=None)
    httpserver.expect_request("").respond_with_handler(service.handle)
    result = run_workflow(
        example("long-running.json"), {"api": httpserver.url_for("/v1"), "pollTimeout": 2500}
    )

    assert result.status == WorkflowStatus.ROLLED_BACK
    assert result.failed_step == "poll-status" and "timed out" in (result.error or "")
    assert result.step("start-process").status == StepStatus.ROLLED_BACK
    assert result.step("finalize").status == StepStatus.SKIPPED
    assert service.calls[-1] == ("DELETE", "/v1/processes/P-1")
    assert ("POST", "/v1/processes/P-1/complete") not in service.calls
