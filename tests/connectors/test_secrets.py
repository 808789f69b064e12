"""Secrets in connections never reach results, raised errors (with their tracebacks) or logs.

Each case runs an action that succeeds and ones that fail (HTTP error, auth error, network error)
with a known secret in the connection, then greps everything produced for it.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from .conftest import Call, set_conn

SECRET = "S3CRET-value-7f3a9c"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _outputs(fn: Callable[[], Any]) -> str:
    try:
        return repr(fn())
    except Exception as exc:  # the thing under test: what a failing action raises
        return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


@pytest.fixture
def grep(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], None]:
    caplog.set_level(logging.DEBUG)
    # werkzeug's access log belongs to the stand-in server (it prints the webhook path it served).
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)

    def check(produced: str) -> None:
        out, err = capfd.readouterr()
        logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
        everything = produced + logs + out + err
        assert SECRET not in everything
        assert SECRET[:12] not in everything

    return check


def test_trello(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call, grep: Any) -> None:
    httpserver.expect_request("/1/lists/l1/cards").respond_with_json([])
    httpserver.expect_request("/1/cards", method="POST").respond_with_json(
        {"id": "c1", "url": "https://trello.com/c/c1", "idList": "l1"}
    )
    httpserver.expect_request("/1/lists/l2/cards").respond_with_data(f"bad token {SECRET}", status=401)
    set_conn(
        monkeypatch,
        "wfo_trello",
        conn_type="wfo_trello",
        host=httpserver.url_for("").rstrip("/"),
        login="key-" + SECRET,
        password=SECRET,
    )
    produced = _outputs(lambda: call("trello", "create_task", {"name": "n", "listId": "l1"}))
    produced += _outputs(lambda: call("trello", "create_task", {"name": "n", "listId": "l2"}, key="k2"))
    set_conn(
        monkeypatch,
        "wfo_trello",
        conn_type="wfo_trello",
        host=f"http://127.0.0.1:{_closed_port()}",
        login="key-" + SECRET,
        password=SECRET,
    )
    produced += _outputs(lambda: call("trello", "create_task", {"name": "n", "listId": "l1"}, key="k3"))
    assert "c1" in produced and "401" in produced
    grep(produced)


def test_slack_token_and_webhook(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call, grep: Any
) -> None:
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "invalid_auth"}
    )
    set_conn(
        monkeypatch,
        "wfo_slack",
        conn_type="slack",
        password="xoxb-" + SECRET,
        extra={"base_url": httpserver.url_for("/api/")},
    )
    produced = _outputs(lambda: call("slack", "send_notification", {"channel": "c", "message": "m"}))
    hook = f"/services/T0/B0/{SECRET}"
    httpserver.expect_request(hook).respond_with_data("ok")
    set_conn(monkeypatch, "wfo_slack", conn_type="slackwebhook", password=httpserver.url_for(hook))
    produced += _outputs(
        lambda: call("slack", "send_notification", {"channel": "c", "message": "m"}, key="k2")
    )
    set_conn(
        monkeypatch,
        "wfo_slack",
        conn_type="slackwebhook",
        password=f"http://127.0.0.1:{_closed_port()}{hook}",
    )
    produced += _outputs(lambda: call("slack", "send_notification", {"message": "m"}, key="k3"))
    assert "invalid_auth" in produced and "'ok': True" in produced
    grep(produced)


def test_notion(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call, grep: Any) -> None:
    httpserver.expect_request("/v1/databases/db").respond_with_json(
        {"object": "error", "status": 401, "code": "unauthorized", "message": f"token {SECRET} invalid"},
        status=401,
    )
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        host=httpserver.url_for("").rstrip("/"),
        password=SECRET,
    )
    produced = _outputs(lambda: call("notion", "create_task", {"databaseId": "db", "title": "t"}))
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        host=f"http://127.0.0.1:{_closed_port()}",
        password=SECRET,
        extra={"timeout_ms": 2000},
    )
    produced += _outputs(lambda: call("notion", "create_task", {"databaseId": "db", "title": "t"}, key="k2"))
    assert "401" in produced
    grep(produced)


def test_http(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call, grep: Any) -> None:
    httpserver.expect_request("/ok").respond_with_json({"fine": True})
    httpserver.expect_request("/boom").respond_with_data(f"error, your key was {SECRET}", status=500)
    set_conn(
        monkeypatch,
        "api",
        conn_type="http",
        host=httpserver.url_for("").rstrip("/"),
        login="u",
        password=SECRET,
        extra={"X-Api-Key": SECRET},
    )
    produced = _outputs(lambda: call("http", "request", {"endpoint": "/ok"}, conn_id="api"))
    produced += _outputs(lambda: call("http", "request", {"endpoint": "/boom"}, conn_id="api", key="k2"))
    set_conn(
        monkeypatch,
        "api",
        conn_type="http",
        host=f"http://u:{SECRET}@127.0.0.1:{_closed_port()}",
        extra={"X-Api-Key": SECRET},
    )
    produced += _outputs(lambda: call("http", "request", {"endpoint": "/x"}, conn_id="api", key="k3"))
    assert "'fine': True" in produced and "500" in produced
    grep(produced)


def test_smtp_password(monkeypatch: pytest.MonkeyPatch, call: Call, grep: Any) -> None:
    set_conn(
        monkeypatch,
        "wfo_email",
        conn_type="smtp",
        host="127.0.0.1",
        port=_closed_port(),
        login="u",
        password=SECRET,
        extra={
            "disable_ssl": True,
            "disable_tls": True,
            "retry_limit": 1,
            "from_email": "a@example.com",
            "timeout": 2,
        },
    )
    produced = _outputs(
        lambda: call("email", "send_email", {"to": "b@example.com", "subject": "s", "body": "b"})
    )
    assert "SMTP" in produced
    grep(produced)
