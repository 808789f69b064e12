"""Local (workspace) backends: actions, rollbacks, idempotency, path safety, concurrency."""

from __future__ import annotations

import base64
import csv
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from airflow_provider_wfo.actions.registry import NonRetryableActionError

from .conftest import Call, set_conn, tree


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


# -- drive ---------------------------------------------------------------------------------------------
def test_drive_files_into_category_and_delete_leaves_nothing(workspace: Path, call: Call) -> None:
    res = call(
        "drive",
        "file_document",
        {"name": "Invoice-Acme-2025-001.pdf", "type": "INVOICE", "content": "%PDF-1.4 invoice"},
    )
    assert res["folder"] == "Invoices" and res["name"] == "Invoice-Acme-2025-001.pdf"
    assert res["webViewLink"].startswith("file://") and res["fileId"]
    assert res["createdTime"].endswith("Z") and res["size"] == len("%PDF-1.4 invoice")
    stored = workspace / "drive" / "Invoices" / "Invoice-Acme-2025-001.pdf"
    assert stored.read_text() == "%PDF-1.4 invoice"

    gone = call("drive", "delete_file", {"fileId": res["fileId"]}, rollback=True)
    assert gone["deleted"] is True
    assert tree(workspace) == []
    assert not (workspace / "drive").exists()
    # A retried rollback is a no-op, not an error.
    again = call("drive", "delete_file", {"fileId": res["fileId"]}, rollback=True)
    assert again == {"fileId": res["fileId"], "deleted": False, "alreadyDeleted": True}


@pytest.mark.parametrize(
    ("params", "folder"),
    [
        ({"name": "Q4-2024-Financial-Report.pdf"}, "Reports"),
        ({"name": "Order-ORD-1.pdf", "type": "ORDER"}, "Orders"),
        ({"name": "x.pdf", "type": "report"}, "Reports"),
        ({"name": "notes.txt"}, "Documents"),
        ({"name": "a.pdf", "folder": "Custom"}, "Custom"),
    ],
)
def test_drive_categorises(workspace: Path, call: Call, params: dict, folder: str) -> None:
    assert call("drive", "file_document", params)["folder"] == folder


def test_drive_idempotent_per_key(workspace: Path, call: Call) -> None:
    first = call("drive", "file_document", {"name": "a.pdf", "content": "x"})
    second = call("drive", "file_document", {"name": "a.pdf", "content": "x"}, attempt=2)
    assert first == second
    assert tree(workspace) == ["drive/Documents/a.pdf"]
    other = call("drive", "file_document", {"name": "a.pdf", "content": "y"}, key="dag:run2:step")
    assert other["fileId"] != first["fileId"] and other["name"] == "a (2).pdf"


def test_drive_reads_base64_and_inbox_files(workspace: Path, call: Call) -> None:
    res = call(
        "drive", "file_document", {"name": "b.bin", "contentBase64": base64.b64encode(b"\x00\x01").decode()}
    )
    assert (workspace / "drive" / "Documents" / "b.bin").read_bytes() == b"\x00\x01"
    inbox = workspace / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "Invoice-7.pdf").write_bytes(b"pdf")
    res = call("drive", "file_document", {"filePath": "Invoice-7.pdf"}, key="dag:run1:s2")
    assert res["name"] == "Invoice-7.pdf" and res["folder"] == "Invoices"
    res = call(
        "drive",
        "file_document",
        {"fileUri": (inbox / "Invoice-7.pdf").as_uri(), "name": "c.pdf"},
        key="dag:run1:s3",
    )
    assert (workspace / "drive" / "Documents" / "c.pdf").read_bytes() == b"pdf"
    res = call("drive", "file_document", {"source": (inbox / "Invoice-7.pdf").as_uri()}, key="dag:run1:s4")
    assert res["name"] == "Invoice-7 (2).pdf"


@pytest.mark.parametrize(
    "params",
    [
        {"filePath": "../../etc/passwd"},
        {"filePath": "/etc/passwd"},
        {"fileUri": "file:///etc/passwd"},
        {"fileUri": "http://example.com/x.pdf"},
        {"filePath": "inbox/../../secret.txt"},
        {"name": "x", "folder": "../.."},
        {"name": ".."},
    ],
)
def test_drive_refuses_paths_outside(workspace: Path, call: Call, params: dict) -> None:
    with pytest.raises(NonRetryableActionError):
        call("drive", "file_document", params)
    assert tree(workspace) == []


def test_drive_refuses_symlink_out_of_inbox(workspace: Path, call: Call, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    inbox = workspace / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "link.pdf").symlink_to(secret)
    with pytest.raises(NonRetryableActionError, match="outside"):
        call("drive", "file_document", {"filePath": "link.pdf"})


def test_drive_file_name_never_leaves_folder(workspace: Path, call: Call) -> None:
    res = call("drive", "file_document", {"name": "../../etc/passwd", "content": "x"})
    assert res["name"] == "passwd"
    assert tree(workspace) == ["drive/Documents/passwd"]
    res = call("drive", "file_document", {"name": "/abs/evil.pdf", "content": "x"}, key="k2")
    assert tree(workspace) == ["drive/Documents/evil.pdf", "drive/Documents/passwd"]
    with pytest.raises(NonRetryableActionError):
        call("drive", "delete_file", {"fileId": "../../etc"})


def test_allowed_paths_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "shared"
    outside.mkdir()
    (outside / "r.pdf").write_text("r")
    set_conn(monkeypatch, "wfo_drive", conn_type="wfo_local", extra={"workspace": str(ws)})
    with pytest.raises(NonRetryableActionError):
        call("drive", "file_document", {"filePath": str(outside / "r.pdf")})
    set_conn(
        monkeypatch,
        "wfo_drive",
        conn_type="wfo_local",
        extra={"workspace": str(ws), "allowed_paths": [str(outside)]},
    )
    assert call("drive", "file_document", {"filePath": str(outside / "r.pdf")})["name"] == "r.pdf"


# -- sheets --------------------------------------------------------------------------------------------
def test_sheets_append_idempotent_and_delete_row(workspace: Path, call: Call) -> None:
    row = ["2025-01-15", "Acme Corp", 1500.0, "2025-02-15", "Pending", "URL"]
    first = call("sheets", "update_sheet", {"spreadsheetId": "inv", "operation": "APPEND_ROW", "values": row})
    again = call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "inv", "operation": "APPEND_ROW", "values": row},
        attempt=2,
    )
    assert first == again and first["rowNumber"] == 1 and first["sheetName"] == "Sheet1"
    other = call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": ["x"]}, key="dag:run1:other")
    assert other["rowNumber"] == 2
    path = workspace / "sheets" / "inv" / "Sheet1.csv"
    assert _csv(path) == [["2025-01-15", "Acme Corp", "1500.0", "2025-02-15", "Pending", "URL"], ["x"]]

    res = call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": first["rowId"]}, rollback=True)
    assert res["deletedRows"] == 1
    assert _csv(path) == [["x"]]
    assert call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": first["rowId"]})["deleted"] is False
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": other["rowId"]})
    assert tree(workspace) == []
    assert not (workspace / ".wfo" / "sheets").exists()


def test_sheets_update_range_and_restore(workspace: Path, call: Call) -> None:
    call("sheets", "update_sheet", {"spreadsheetId": "s", "values": [["a", "b", "c"], ["d", "e", "f"]]})
    res = call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "s", "operation": "UPDATE_RANGE", "range": "B2:C2", "values": ["E", "F"]},
        key="k2",
    )
    assert res["previousValues"] == [["e", "f"]]
    path = workspace / "sheets" / "s" / "Sheet1.csv"
    assert _csv(path) == [["a", "b", "c"], ["d", "E", "F"]]
    call(
        "sheets",
        "update_sheet",
        {
            "spreadsheetId": "s",
            "operation": "UPDATE_RANGE",
            "range": res["range"],
            "values": res["previousValues"],
        },
        key="k2",
        rollback=True,
    )
    assert _csv(path) == [["a", "b", "c"], ["d", "e", "f"]]
    cleared = call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "s", "operation": "CLEAR_RANGE", "range": "A1:A2"},
        key="k3",
    )
    assert cleared["previousValues"] == [["a"], ["d"]]
    assert _csv(path) == [["", "b", "c"], ["", "e", "f"]]


def test_sheets_dict_values_follow_header_and_log_action(workspace: Path, call: Call) -> None:
    call(
        "sheets", "update_sheet", {"spreadsheetId": "t", "sheetName": "Bugs", "values": ["Title", "Severity"]}
    )
    call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "t", "sheetName": "Bugs", "values": {"severity": "High", "Title": "Login"}},
        key="k2",
    )
    assert _csv(workspace / "sheets" / "t" / "Bugs.csv") == [["Title", "Severity"], ["Login", "High"]]
    log = call(
        "sheets",
        "log_action",
        {"spreadsheetId": "t", "action": "API Call", "status": "success", "details": {"n": 1}},
        key="k3",
    )
    rows = _csv(workspace / "sheets" / "t" / "Sheet1.csv")
    assert rows[0][1:] == ["API Call", "success", '{"n": 1}'] and log["rowId"]


@pytest.mark.parametrize("sid", ["../x", "..", ".wfo", "a/b"])
def test_sheets_refuses_bad_ids(workspace: Path, call: Call, sid: str) -> None:
    with pytest.raises(NonRetryableActionError):
        call("sheets", "update_sheet", {"spreadsheetId": sid, "values": ["x"]})
    with pytest.raises(NonRetryableActionError):
        call("sheets", "update_sheet", {"spreadsheetId": "ok", "sheetName": sid, "values": ["x"]})
    assert tree(workspace) == []


def _append_many(args: tuple[str, int]) -> None:
    import logging

    from airflow_provider_wfo.actions.registry import ActionContext, get_action

    ws, n = args
    os.environ["AIRFLOW_CONN_WFO_SHEETS"] = json.dumps({"conn_type": "wfo_local", "extra": {"workspace": ws}})
    fn = get_action("sheets", "update_sheet")
    for i in range(n):
        key = f"dag:run:{os.getpid()}-{i}"
        fn(
            {"spreadsheetId": "c", "values": [key]},
            ActionContext("sheets", "update_sheet", "wfo_sheets", key, log=logging.getLogger("t")),
        )


def test_sheets_concurrent_workers_lose_nothing(workspace: Path) -> None:
    # spawn, not fork: by now this pytest process runs stand-in server threads, and a fork taken
    # while one of them holds a lock (logging's, say) deadlocks the child. Workers are separate
    # processes in Airflow too. A bounded wait turns a hang into a failure with a reason.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.map_async(_append_many, [(str(workspace), 15)] * 4).get(timeout=600)
    rows = _csv(workspace / "sheets" / "c" / "Sheet1.csv")
    assert len(rows) == 60 and len({r[0] for r in rows}) == 60
    ids = json.loads((workspace / ".wfo" / "sheets" / "c" / "Sheet1.json").read_text())
    assert len(ids) == 60


# -- slack / email ---------------------------------------------------------------------------------------
def test_slack_outbox_once_per_key(workspace: Path, call: Call) -> None:
    params = {
        "channel": "#orders",
        "message": "Order ORD-1 created",
        "fields": [{"title": "File", "value": "file:///x"}],
    }
    first = call("slack", "send_notification", params)
    assert first["channel"] == "orders" and float(first["ts"]) > 0
    assert call("slack", "send_notification", params, attempt=2) == first
    lines = (workspace / "slack" / "outbox.jsonl").read_text().splitlines()
    assert len(lines) == 1
    msg = json.loads(lines[0])
    assert msg["text"] == "Order ORD-1 created\nFile: file:///x"
    assert msg["blocks"][1]["fields"][0]["text"] == "*File*\nfile:///x"


def test_email_outbox_once_per_key_and_gmail_alias(workspace: Path, call: Call) -> None:
    params = {"to": ["a@example.com", "b@example.com"], "subject": "Hi", "body": "Hello"}
    first = call("gmail", "send_email", params)
    assert first["to"] == ["a@example.com", "b@example.com"] and first["messageId"].startswith("<wfo.")
    assert call("email", "send_email", params, attempt=2) == first
    lines = (workspace / "email" / "outbox.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["body"] == "Hello"
    with pytest.raises(NonRetryableActionError):
        call("email", "send_email", {"subject": "no recipient"}, key="k2")


# -- trello / notion -------------------------------------------------------------------------------------
def test_trello_card_idempotent_and_deleted(workspace: Path, call: Call) -> None:
    params = {
        "name": "[BUG] Login",
        "description": "iOS",
        "listId": "backlog",
        "labels": ["High", "bug"],
        "due": "2025-01-31",
    }
    card = call("trello", "create_task", params)
    assert call("trello", "create_card", params, attempt=2) == card
    assert card["labels"] == ["high", "bug"] and card["url"] and card["listId"] == "backlog"
    assert tree(workspace) == [f"trello/cards/{card['id']}.json"]
    stored = json.loads((workspace / "trello" / "cards" / f"{card['id']}.json").read_text())
    assert stored["desc"].startswith("iOS") and "wfo-key:" in stored["desc"]
    assert call("trello", "delete_card", {"cardId": card["id"]}, rollback=True)["deleted"] is True
    assert tree(workspace) == []
    assert call("trello", "delete_card", {"cardId": card["id"]})["alreadyDeleted"] is True


def test_notion_page_idempotent_and_archived(workspace: Path, call: Call) -> None:
    params = {
        "databaseId": "meetings",
        "title": "Q1 Sprint Planning",
        "content": "1. Review",
        "properties": {
            "Date": "2025-01-20",
            "Time": "10:00 AM",
            "Duration": 60,
            "Attendees": ["john@example.com"],
            "Type": "Meeting",
        },
    }
    page = call("notion", "create_task", params)
    assert call("notion", "create_page", params, attempt=2) == page
    assert page["url"] and page["title"] == "Q1 Sprint Planning"
    stored = json.loads((workspace / "notion" / "pages" / f"{page['id']}.json").read_text())
    assert stored["properties"]["Duration"] == 60
    assert call("notion", "archive_page", {"pageId": page["id"]}, rollback=True)["archived"] is True
    assert tree(workspace) == []


def test_missing_default_connection_uses_wfo_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WFO_TRELLO", raising=False)
    monkeypatch.setenv("WFO_WORKSPACE", str(tmp_path / "default-ws"))
    card = call("trello", "create_task", {"name": "x"})
    assert (tmp_path / "default-ws" / "trello" / "cards" / f"{card['id']}.json").exists()
    with pytest.raises(NonRetryableActionError, match="not defined"):
        call("trello", "create_task", {"name": "x"}, conn_id="wfo_nope")


def test_sheets_header_for_empty_sheet_and_full_rollback(workspace: Path, call: Call) -> None:
    header = ["Date", "Vendor", "Amount", "Due Date", "Status", "Link"]
    params = {
        "spreadsheetId": "inv",
        "header": header,
        "values": ["2025-01-15", "Acme", 1500, "", "Pending", "u"],
    }
    res = call("sheets", "update_sheet", params)
    assert res["rowNumber"] == 2
    second = call("sheets", "update_sheet", {**params, "values": ["d", "Beta"]}, key="dag:run2:s")
    rows = _csv(workspace / "sheets" / "inv" / "Sheet1.csv")
    assert rows[0] == header and rows[2] == ["d", "Beta"] and second["rowNumber"] == 3
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": second["rowId"]})
    assert _csv(workspace / "sheets" / "inv" / "Sheet1.csv")[0] == header
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]})
    assert tree(workspace) == []


def test_slack_list_values_are_joined(workspace: Path, call: Call) -> None:
    call(
        "slack",
        "send_notification",
        {"message": "m", "fields": [{"title": "Attendees", "value": ["a@x", "b@x"]}]},
    )
    msg = json.loads((workspace / "slack" / "outbox.jsonl").read_text())
    assert msg["fields"] == [{"title": "Attendees", "value": "a@x, b@x"}]
