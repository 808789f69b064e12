"""Local backends through real workflow runs (generated DAG + dag.test): one that commits, one that
rolls back; the workspace is checked afterwards."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.results import WorkflowStatus

from .conftest import tree

pytestmark = pytest.mark.slow

STEPS: list[dict[str, Any]] = [
    {
        "id": "file-drive",
        "name": "File invoice",
        "action": "file_document",
        "target": "drive",
        "params": {"name": "$fileName", "type": "INVOICE", "content": "%PDF invoice $vendor"},
        "rollback": {"action": "delete_file", "target": "drive", "params": {"fileId": "$file-drive.fileId"}},
    },
    {
        "id": "update-sheet",
        "name": "Track",
        "action": "update_sheet",
        "target": "sheets",
        "params": {
            "spreadsheetId": "invoices",
            "operation": "APPEND_ROW",
            "values": ["$vendor", "$amount", "$file-drive.webViewLink"],
        },
        "rollback": {
            "action": "delete_row",
            "target": "sheets",
            "params": {"spreadsheetId": "invoices", "rowId": "$update-sheet.rowId"},
        },
    },
    {
        "id": "create-card",
        "name": "Card",
        "action": "create_task",
        "target": "trello",
        "params": {"name": "Pay $vendor", "listId": "accounting", "labels": ["Invoice"]},
        "rollback": {"action": "delete_card", "target": "trello", "params": {"cardId": "$create-card.id"}},
    },
    {
        "id": "create-notion",
        "name": "Page",
        "action": "create_task",
        "target": "notion",
        "params": {"title": "Invoice $vendor", "properties": {"Amount": "$amount"}},
        "rollback": {"action": "archive_page", "target": "notion", "params": {"pageId": "$create-notion.id"}},
    },
]
CONF = {"fileName": "Invoice-Acme-1.pdf", "vendor": "Acme", "amount": 1500}


def test_commit_then_rollback(workspace: Path, run_workflow: Any) -> None:
    commit = {
        "id": "wfo-connectors-commit",
        "name": "Connectors commit",
        "rollbackOnFailure": True,
        "steps": [
            *STEPS,
            {
                "id": "notify",
                "name": "Notify",
                "action": "send_notification",
                "target": "slack",
                "params": {
                    "channel": "accounting",
                    "message": "Invoice from $vendor",
                    "fields": [{"title": "File", "value": "$file-drive.webViewLink"}],
                },
            },
            {
                "id": "mail",
                "name": "Mail",
                "action": "send_email",
                "target": "gmail",
                "params": {"to": "ap@example.com", "subject": "Invoice $vendor", "body": "$amount"},
            },
        ],
    }
    result = run_workflow(commit, conf=CONF)
    assert result.status == WorkflowStatus.COMPLETED, result.error
    files = tree(workspace)
    assert "drive/Invoices/Invoice-Acme-1.pdf" in files
    with open(workspace / "sheets" / "invoices" / "Sheet1.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["Acme", "1500"] and rows[0][2].startswith("file://")
    assert len([f for f in files if f.startswith("trello/cards/")]) == 1
    assert len([f for f in files if f.startswith("notion/pages/")]) == 1
    slack = [json.loads(line) for line in (workspace / "slack" / "outbox.jsonl").read_text().splitlines()]
    assert len(slack) == 1 and slack[0]["channel"] == "accounting" and "file://" in slack[0]["text"]
    mail = [json.loads(line) for line in (workspace / "email" / "outbox.jsonl").read_text().splitlines()]
    assert mail[0]["to"] == ["ap@example.com"] and mail[0]["body"] == "1500"
    before = set(files)

    rollback = {
        "id": "wfo-connectors-rollback",
        "name": "Connectors rollback",
        "rollbackOnFailure": True,
        "steps": [
            *STEPS,
            {"id": "boom", "name": "Fails", "action": "do", "target": "test", "params": {"fail": "fatal"}},
        ],
    }
    result = run_workflow(rollback, conf={**CONF, "fileName": "Invoice-Beta-2.pdf", "vendor": "Beta"})
    assert result.status == WorkflowStatus.ROLLED_BACK, result.error
    # Everything the rolled-back run created is gone; what the committed run made is untouched.
    assert set(tree(workspace)) == before
    with open(workspace / "sheets" / "invoices" / "Sheet1.csv", newline="") as handle:
        assert [r[0] for r in csv.reader(handle)] == ["Acme"]
    keys = workspace / ".wfo" / "keys"
    remembered = [json.loads(f.read_text())["key"] for f in keys.rglob("*.json")]
    assert any(k.startswith("wfo-connectors-commit:") for k in remembered)
    assert not any(k.startswith("wfo-connectors-rollback:") for k in remembered)
