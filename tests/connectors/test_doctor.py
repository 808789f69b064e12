"""``wfo connections check``: against stand-ins that grant what a workflow needs, and against
stand-ins that grant too little (a missing scope, role, property or shared drive). The Google
requests the doctor sends are checked against the discovery documents like the backends' are."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.cli import main

from .conftest import set_conn
from .contracts.google_discovery import Recorder
from .test_email_real import PASSWORD, Sink, sink  # noqa: F401  (fixture)

TARGETS = ("drive", "sheets", "slack", "trello", "notion", "email")


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(value), status=status, content_type="application/json", headers=headers)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["connections", "check", "--json", *args])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def _by(report: dict[str, Any]) -> dict[bool, list[str]]:
    found: dict[bool, list[str]] = {True: [], False: []}
    for f in report["findings"]:
        found[f["ok"]].append(f["what"] + (" -> " + f["fix"] if f["fix"] else ""))
    return found


@pytest.fixture
def local_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for target in TARGETS:
        set_conn(
            monkeypatch, f"wfo_{target}", conn_type="wfo_local", extra={"workspace": str(tmp_path / "ws")}
        )
    return tmp_path / "ws"


def test_local_connections_pass(local_everywhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, reports, _ = _run(capsys)
    assert code == 0
    assert {r["target"] for r in reports} == {"drive", "sheets", "slack", "trello", "notion", "email"}
    assert all(r["findings"][0]["ok"] for r in reports)


# -- Google ----------------------------------------------------------------------------------------
class FakeDrive:
    def __init__(self, *, email: str, caps: dict[str, bool], shared: bool) -> None:
        self.email, self.caps, self.shared = email, caps, shared

    def __call__(self, request: Request) -> Response:
        path = request.path
        if path == "/drive/v3/about":
            return _json({"user": {"emailAddress": self.email}, "storageQuota": {"limit": "0"}})
        if path.startswith("/drive/v3/drives/"):
            return (
                _json({"id": "SD1", "name": "Ops"}) if self.shared else _json({"error": {"code": 404}}, 404)
            )
        if path == "/drive/v3/files":
            return _json({"files": []})
        if m := re.fullmatch(r"/drive/v3/files/(\w+)", path):
            return _json({"id": m.group(1), "name": "Ops", "capabilities": self.caps})
        return _json({"error": {"code": 400, "message": path}}, 400)


@pytest.fixture
def drive_contract() -> Iterator[Recorder]:
    recorder = Recorder("drive.v3")
    yield recorder
    recorder.assert_clean()


def _drive(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, rec: Recorder, fake: FakeDrive, **extra: Any
) -> None:
    def handler(request: Request) -> Response:
        rec(request)
        return fake(request)

    httpserver.expect_request(re.compile("/drive/v3/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_drive",
        conn_type="google_cloud_platform",
        extra={
            "is_anonymous": True,
            "num_retries": 0,
            "api_endpoint": httpserver.url_for("/drive/v3/"),
            **extra,
        },
    )


def test_drive_on_a_shared_drive_with_content_manager_passes(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    drive_contract: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caps = {
        "canAddChildren": True,
        "canTrashChildren": True,
        "canDeleteChildren": False,
        "canListChildren": True,
    }
    _drive(
        httpserver,
        monkeypatch,
        drive_contract,
        FakeDrive(email="wfo@p.iam.gserviceaccount.com", caps=caps, shared=True),
        shared_drive_id="SD1",
    )
    code, [report], _ = _run(capsys, "wfo_drive")
    found = _by(report)
    assert code == 0 and found[False] == [], found
    assert any("authenticated as wfo@p.iam.gserviceaccount.com" in w for w in found[True])
    assert any("trash" in w for w in found[True]) and any("cover the Drive API" in w for w in found[True])
    assert {
        "drive.about.get",
        "drive.drives.get",
        "drive.files.list",
        "drive.files.get",
    } <= drive_contract.methods


def test_drive_service_account_without_shared_drive_or_role_fails_with_fixes(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    drive_contract: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caps = {"canAddChildren": True, "canTrashChildren": False}  # a Contributor: can upload, cannot undo
    _drive(
        httpserver,
        monkeypatch,
        drive_contract,
        FakeDrive(email="wfo@p.iam.gserviceaccount.com", caps=caps, shared=False),
    )
    code, [report], err = _run(capsys, "wfo_drive")
    problems = " | ".join(_by(report)[False])
    assert code == 1 and "wfo_drive" in err
    assert "no storage quota" in problems and "shared_drive_id" in problems
    assert "Content manager" in problems  # the undo (trash) needs it


def test_drive_scope_that_the_api_refuses_is_reported(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    drive_contract: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caps = {"canAddChildren": True, "canTrashChildren": True}
    _drive(
        httpserver,
        monkeypatch,
        drive_contract,
        FakeDrive(email="me@example.com", caps=caps, shared=False),
        scope="https://www.googleapis.com/auth/cloud-platform",
    )
    code, [report], _ = _run(capsys, "wfo_drive")
    assert code == 1
    assert any("do not cover the Drive API" in w and "auth/drive" in w for w in _by(report)[False])


def test_sheets_probe_and_named_spreadsheet(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder("sheets.v4")

    def handler(request: Request) -> Response:
        rec(request)
        if request.path == "/v4/spreadsheets/inv":
            return _json({"properties": {"title": "Invoices"}, "sheets": [{"properties": {"title": "2025"}}]})
        if request.path == "/v4/spreadsheets/locked":
            return _json({"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}}, 403)
        return _json({"error": {"code": 404, "status": "NOT_FOUND"}}, 404)

    httpserver.expect_request(re.compile("/v4/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_sheets",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "num_retries": 0, "api_endpoint": httpserver.url_for("/")},
    )
    code, [report], _ = _run(capsys, "wfo_sheets")
    assert code == 0 and any("credentials and scope accepted" in w for w in _by(report)[True])
    code, [report], _ = _run(capsys, "wfo_sheets", "--spreadsheet-id", "inv")
    assert code == 0 and any("'Invoices' readable" in w for w in _by(report)[True])
    code, [report], _ = _run(capsys, "wfo_sheets", "--spreadsheet-id", "locked")
    assert code == 1 and any("share the spreadsheet" in w for w in _by(report)[False])
    rec.assert_clean()


# -- Slack, Notion, Trello, SMTP --------------------------------------------------------------------
def _slack(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, scopes: str) -> None:
    httpserver.expect_request("/api/auth.test").respond_with_response(
        _json({"ok": True, "user": "wfo-bot", "team": "Acme"}, headers={"x-oauth-scopes": scopes})
    )
    set_conn(
        monkeypatch,
        "wfo_slack",
        conn_type="slack",
        password="xoxb-test-token",
        extra={"base_url": httpserver.url_for("/api/")},
    )


def test_slack_scopes_from_the_response_header(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _slack(httpserver, monkeypatch, "chat:write,channels:read,groups:read,channels:history,groups:history")
    code, [report], _ = _run(capsys, "wfo_slack")
    assert code == 0 and _by(report)[False] == []
    assert any("authenticated as wfo-bot in Acme" in w for w in _by(report)[True])


def test_slack_that_grants_too_little(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _slack(httpserver, monkeypatch, "channels:read")
    code, [report], _ = _run(capsys, "wfo_slack")
    missing = _by(report)[False]
    assert code == 1  # chat:write is needed
    assert any("chat:write missing" in w for w in missing) and any(
        "groups:read missing" in w for w in missing
    )
    needed = {f["what"].split()[1]: f["needed"] for f in report["findings"] if not f["ok"]}
    assert needed["chat:write"] is True and needed["groups:history"] is False


def _notion(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, props: dict[str, Any]) -> None:
    httpserver.expect_request("/v1/users/me").respond_with_json({"object": "user", "id": "b1", "name": "wfo"})
    httpserver.expect_request("/v1/databases/db1").respond_with_json(
        {"object": "database", "id": "db1", "data_sources": [{"id": "ds1", "name": "Tasks"}]}
    )
    httpserver.expect_request("/v1/data_sources/ds1").respond_with_json(
        {"object": "data_source", "id": "ds1", "properties": props}
    )
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        password="secret_notion_token",
        host=httpserver.url_for("").rstrip("/"),
        extra={"default_database_id": "db1"},
    )


def test_notion_database_with_and_without_the_key_property(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"Name": {"type": "title"}, "WFO Key": {"type": "rich_text"}}
    _notion(httpserver, monkeypatch, good)
    code, [report], _ = _run(capsys, "wfo_notion")
    assert code == 0 and any("'WFO Key' (Text) present" in w for w in _by(report)[True])
    httpserver.clear()
    _notion(httpserver, monkeypatch, {"Name": {"type": "title"}})
    code, [report], _ = _run(capsys, "wfo_notion")
    assert code == 1 and any("add a Text property named 'WFO Key'" in w for w in _by(report)[False])


def test_notion_database_not_shared_with_the_integration(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/v1/users/me").respond_with_json({"object": "user", "id": "b1", "name": "wfo"})
    httpserver.expect_request("/v1/databases/db1").respond_with_json(
        {"object": "error", "status": 404, "code": "object_not_found", "message": "Could not find database"},
        status=404,
    )
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        password="secret_notion_token",
        host=httpserver.url_for("").rstrip("/"),
        extra={"default_database_id": "db1"},
    )
    code, [report], _ = _run(capsys, "wfo_notion")
    assert code == 1 and any("share the database with the integration" in w for w in _by(report)[False])


def test_trello_members_me(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/1/members/me").respond_with_json({"id": "m1", "username": "ops"})
    httpserver.expect_request("/1/lists/L1").respond_with_json({"id": "L1", "name": "Inbox", "closed": False})
    set_conn(
        monkeypatch,
        "wfo_trello",
        conn_type="wfo_trello",
        login="key123",
        password="token456",
        host=httpserver.url_for("").rstrip("/"),
        extra={"default_list_id": "L1"},
    )
    code, [report], _ = _run(capsys, "wfo_trello")
    assert (
        code == 0
        and any("'ops'" in w for w in _by(report)[True])
        and any("'Inbox'" in w for w in _by(report)[True])
    )
    httpserver.clear()
    httpserver.expect_request("/1/members/me").respond_with_data("invalid token", status=401)
    code, [report], _ = _run(capsys, "wfo_trello")
    assert code == 1 and any("check the API key" in w for w in _by(report)[False])


def test_smtp_ehlo_and_login(
    sink: Sink,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, [report], _ = _run(capsys, "wfo_email")
    assert code == 0 and any("EHLO answered 250" in w for w in _by(report)[True])
    set_conn(
        monkeypatch,
        "wfo_email",
        conn_type="smtp",
        host="127.0.0.1",
        port=sink.server_address[1],
        login="mailer",
        password="wrong-password",
        extra={"disable_ssl": True, "disable_tls": True, "retry_limit": 1, "timeout": 5},
    )
    code, [report], _ = _run(capsys, "wfo_email")
    assert code == 1 and any("login refused" in w for w in _by(report)[False])
    assert PASSWORD not in json.dumps(report)


def test_text_output_shows_fixes(local_everywhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connections", "check", "wfo_drive"]) == 0
    out = capsys.readouterr().out
    assert "wfo_drive (wfo_local, target drive)" in out and "✔ local workspace folder is writable" in out


def test_json_stays_json_in_a_fresh_process(httpserver: HTTPServer, tmp_path: Path) -> None:
    """As a user's first `wfo connections check --json` runs: a short extra value ("db1") makes
    Airflow warn, once per process, that it cannot mask it, and that warning must not land in the
    JSON on stdout (it did). A fresh process, because in this one the warning has been said."""
    import os
    import subprocess
    import sys

    httpserver.expect_request("/v1/users/me").respond_with_json({"object": "user", "id": "b1", "name": "wfo"})
    httpserver.expect_request("/v1/databases/db1").respond_with_json(
        {"object": "database", "id": "db1", "properties": {"WFO Key": {"type": "rich_text"}}}
    )
    conn = {
        "conn_type": "wfo_notion",
        "password": "secret_notion_token",
        "host": httpserver.url_for("").rstrip("/"),
        "extra": {"default_database_id": "db1"},
    }
    env = {**os.environ, "AIRFLOW_CONN_WFO_NOTION": json.dumps(conn), "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", "connections", "check", "--json", "wfo_notion"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [report] = json.loads(out.stdout)  # JSON alone on stdout
    assert report["connId"] == "wfo_notion", out.stderr
