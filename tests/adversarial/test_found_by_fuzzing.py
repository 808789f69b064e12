"""What the fuzzers of ``test_fuzz_conf.py`` found, pinned as plain regression tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from wfo_adversarial import call

from airflow_provider_wfo.actions.registry import NonRetryableActionError

TARGETS = ("sheets", "slack", "email", "drive", "trello", "notion")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Path]:
    conn = json.dumps({"conn_type": "wfo_local", "extra": {"workspace": str(tmp_path)}})
    names = [f"AIRFLOW_CONN_WFO_{t.upper()}" for t in TARGETS]
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(dict.fromkeys(names, conn))
    yield tmp_path
    for name, value in saved.items():
        os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)


def test_a_cell_longer_than_google_sheets_allows_is_refused_and_the_sheet_stays_readable(ws: Path) -> None:
    # 131,073 characters were stored, and the next read of the sheet failed in the csv module.
    call("sheets", "update_sheet", {"spreadsheetId": "s", "values": ["a"]}, key="d:r:a")
    with pytest.raises(NonRetryableActionError, match="50,000 characters"):
        call("sheets", "update_sheet", {"spreadsheetId": "s", "values": ["x" * 50_001]})
    with pytest.raises(NonRetryableActionError, match="50,000 characters"):
        call("sheets", "log_action", {"spreadsheetId": "s", "action": "a", "details": {"k": "y" * 60_000}})
    fits = call("sheets", "update_sheet", {"spreadsheetId": "s", "values": ["x" * 50_000]}, key="d:r:b")
    call("sheets", "delete_row", {"spreadsheetId": "s", "rowId": fits["rowId"]}, rollback=True)


def test_a_line_separator_in_a_message_keeps_the_outbox_one_record_a_line(ws: Path) -> None:
    # U+0085 (NEL) and U+2028 were written raw: str.splitlines() split the record in two.
    for text in ("a\x85b", "c\u2028d", "e\u2029f"):
        call("slack", "send_notification", {"channel": "#c", "message": text}, key=f"d:r:{ord(text[1])}")
    lines = (ws / "slack" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["a\x85b", "c\u2028d", "e\u2029f"]


@pytest.mark.parametrize(
    "params",
    [
        {"to": "a@example.com", "subject": "Invoice\r\nBcc: everyone@evil.example", "body": "b"},
        {"to": ["a@example.com\nBcc: everyone@evil.example"], "body": "b"},
        {"to": "a@example.com", "cc": "b@example.com\r\nX: y", "body": "b"},
        {"to": "a@example.com", "from": "me@example.com\nReply-To: evil@example.com", "body": "b"},
    ],
)
def test_a_line_break_in_an_email_header_is_refused(ws: Path, params: dict[str, object]) -> None:
    # Header injection: a subject from run conf added a Bcc header of its own.
    with pytest.raises(NonRetryableActionError, match="line break"):
        call("email", "send_email", params)
    assert not (ws / "email" / "outbox.jsonl").exists()
    assert call("email", "send_email", {"to": "a@example.com", "subject": "ok", "body": "multi\nline"})


LONE = "Acme \ud800 Corp"  # what JSON's "\\ud800" (no pair) decodes to; no UTF-8 can hold it


@pytest.mark.parametrize(
    ("target", "action", "params"),
    [
        ("sheets", "update_sheet", {"spreadsheetId": "s", "values": [LONE]}),
        ("sheets", "update_sheet", {"spreadsheetId": "s", "values": [{LONE: 1}], "header": ["a"]}),
        ("slack", "send_notification", {"channel": "#c", "message": LONE}),
        ("email", "send_email", {"to": "a@example.com", "body": LONE}),
        ("drive", "file_document", {"name": "a.txt", "content": LONE}),
        ("trello", "create_task", {"name": "n", "listId": "l", "description": LONE}),
        ("notion", "create_task", {"databaseId": "d", "title": "t", "properties": {"x": [LONE]}}),
        ("http", "request", {"url": "http://127.0.0.1:9/x", "json": {"v": LONE}}),
    ],
)
def test_a_lone_surrogate_is_a_bad_request_not_a_crash(
    ws: Path, target: str, action: str, params: dict[str, object]
) -> None:
    # It reached the backends and failed there with UnicodeEncodeError, a retryable crash.
    with pytest.raises(NonRetryableActionError, match="not valid Unicode"):
        call(target, action, params)
    assert [p for p in ws.rglob("*") if p.is_file()] == []
