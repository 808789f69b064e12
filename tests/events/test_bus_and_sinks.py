"""The event model, the in-process bus and the sinks, without Airflow runs."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.events.bus import WorkflowEventBus
from airflow_provider_wfo.events.model import WorkflowEvent, WorkflowEventType
from airflow_provider_wfo.events.sinks import (
    JsonLinesSink,
    LogSink,
    QueuedSink,
    SinkRegistry,
    WebhookSink,
    build_sinks,
    parse_spec,
)
from airflow_provider_wfo.results import Progress, WorkflowStatus


def event(type_: str = "step:completed", **fields: Any) -> WorkflowEvent:
    base: dict[str, Any] = {"workflow_id": "w", "workflow_name": "W", "dag_id": "w", "run_id": "r"}
    return WorkflowEvent(type=WorkflowEventType(type_), **{**base, **fields})


def test_event_types_are_the_seeds_plus_ours() -> None:
    assert {t.value for t in WorkflowEventType} == {
        "workflow:started", "workflow:completed", "workflow:failed", "step:started", "step:completed",
        "step:failed", "rollback:started", "workflow:progress", "step:retrying", "step:skipped",
        "step:rolled_back", "rollback:completed", "rollback:failed",
    }
    assert WorkflowEventType.STEP_COMPLETED == "step:completed"


def test_event_json_uses_the_seeds_camel_case() -> None:
    progress = Progress(current_step=1, total_steps=2, completed_steps=1, failed_steps=0,
                        status=WorkflowStatus.RUNNING, percent_complete=50, current_step_name="A")
    data = event("workflow:progress", step_id="a", step_name="A", progress=progress, duration=12)
    data = data.to_json_dict()
    assert data["type"] == "workflow:progress" and data["workflowName"] == "W" and data["stepName"] == "A"
    assert data["progress"]["percentComplete"] == 50 and data["progress"]["currentStepName"] == "A"
    assert "error" not in data  # unset fields are left out
    assert WorkflowEvent.model_validate(data) == event(
        "workflow:progress", step_id="a", step_name="A", progress=progress, duration=12,
        timestamp=WorkflowEvent.model_validate(data).timestamp)


def test_bus_on_off_once_and_wildcard() -> None:
    bus = WorkflowEventBus()
    got: list[str] = []
    handler = bus.on(WorkflowEventType.STEP_COMPLETED, lambda e: got.append("typed"))
    bus.on("*", lambda e: got.append("any"))
    bus.once("step:completed", lambda e: got.append("once"))
    bus.emit(event())
    bus.emit(event())
    bus.emit(event("step:failed"))
    assert got == ["typed", "once", "any", "typed", "any", "any"]
    bus.off(WorkflowEventType.STEP_COMPLETED, handler)
    bus.emit(event())
    assert got[-1] == "any" and got.count("typed") == 2
    with pytest.raises(ValueError):
        bus.on("step:exploded", print)


def test_a_raising_handler_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    bus = WorkflowEventBus()
    got: list[WorkflowEvent] = []

    def boom(e: WorkflowEvent) -> None:
        raise RuntimeError("handler bug")

    bus.on("*", boom)
    bus.on("*", got.append)
    with caplog.at_level(logging.ERROR):
        bus.emit(event())
    assert len(got) == 1
    assert "handler bug" in caplog.text


def test_parse_spec() -> None:
    assert parse_spec(" log , jsonl:/tmp/x.jsonl,webhook:http://h:1/a?b=c ") == [
        ("log", ""), ("jsonl", "/tmp/x.jsonl"), ("webhook", "http://h:1/a?b=c")]
    assert parse_spec("none") == [] and parse_spec("") == []


def test_build_sinks_ignores_unknown_names(caplog: pytest.LogCaptureFixture) -> None:
    sinks = build_sinks("log,nosuch,jsonl:/tmp/wfo-x.jsonl")
    assert [type(s).__name__ for s in sinks] == ["LogSink", "JsonLinesSink"]
    assert "unknown event sink 'nosuch'" in caplog.text


def test_log_and_jsonl_sinks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airflow_provider_wfo.events"):
        LogSink().send(event(step_id="a"))
    assert "wfo event step:completed" in caplog.text and '"stepId": "a"' in caplog.text
    path = tmp_path / "sub" / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send(event(step_id="a"))
    sink.send(event("step:failed", step_id="b", error="boom"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["type"], e["stepId"]) for e in lines] == [("step:completed", "a"), ("step:failed", "b")]


def test_registry_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.jsonl"
    monkeypatch.setenv("AIRFLOW__WFO__EVENT_SINKS", f"jsonl:{path}")
    registry = SinkRegistry()
    registry.deliver(event())
    monkeypatch.setenv("AIRFLOW__WFO__EVENT_SINKS", "none")
    registry.deliver(event())
    assert len(path.read_text().splitlines()) == 1


class _Hook(BaseHTTPRequestHandler):
    fail_first = 0
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Any:
    _Hook.fail_first = 0
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_retries_server_errors(hook_server: HTTPServer) -> None:
    _Hook.fail_first = 2
    url = f"http://127.0.0.1:{hook_server.server_address[1]}/hook"
    WebhookSink(url, retries=3, backoff=0.01).send(event(step_id="a"))
    assert [e["stepId"] for e in _Hook.received] == ["a"]
    assert "127.0.0.1" not in repr(WebhookSink(url))  # the URL may carry a token


def test_queued_webhook_delivers_in_order(hook_server: HTTPServer) -> None:
    url = f"http://127.0.0.1:{hook_server.server_address[1]}/hook"
    sink = QueuedSink(WebhookSink(url, backoff=0.01))
    for i in range(5):
        sink.send(event(step_id=f"s{i}"))
    assert sink.flush(10)
    assert [e["stepId"] for e in _Hook.received] == [f"s{i}" for i in range(5)]
    sink.close()


class _Slow:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[WorkflowEvent] = []

    def send(self, e: WorkflowEvent) -> None:
        self.release.wait(10)
        self.sent.append(e)

    def close(self, timeout: float = 5.0) -> None:
        pass


def test_a_slow_sink_never_blocks_and_a_full_queue_drops() -> None:
    slow = _Slow()
    sink = QueuedSink(slow, maxsize=2)
    for i in range(10):
        sink.send(event(step_id=str(i)))  # returns at once although the sink is stuck
    assert sink.dropped >= 7
    assert not sink.flush(0.05)
    slow.release.set()
    assert sink.flush(10)
    assert 1 <= len(slow.sent) <= 3
    sink.close()


def test_a_dead_webhook_is_retried_then_given_up_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = WebhookSink(f"http://127.0.0.1:{port}/x", retries=2, backoff=0.01, timeout=1)
    with pytest.raises(RuntimeError, match=r"Connection refused|URLError"):
        dead.send(event())
    sink = QueuedSink(dead)
    sink.send(event())
    assert sink.flush(10)
    assert "event step:completed lost" in caplog.text
    sink.close()
