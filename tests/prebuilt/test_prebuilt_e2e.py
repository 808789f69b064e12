"""Each pre-built workflow end to end on the local backends (the embedded default, ``dag.test``),
once committing and once rolled back, checking what is left in the workspace.

Failures are injected with ``register_action`` on a required step: user actions take precedence over
the built-in connectors, and ``dag.test`` runs the tasks in this process.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo import (
    StepStatus,
    WorkflowStatus,
    handle_bug_report,
    handle_invoice,
    handle_meeting,
    handle_report,
    register_action,
)
from airflow_provider_wfo.actions.registry import ActionContext, NonRetryableActionError, unregister_action

from .seed_examples import SEED_AGENDA

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PDF = REPO / "examples" / "sample-invoice.pdf"


@pytest.fixture
def workspace(airflow_db: Path) -> Path:
    return Path(os.environ["WFO_WORKSPACE"])


@pytest.fixture
def fail_action() -> Iterator[Any]:
    """``fail_action(target, action)``: that action raises until the test ends."""
    registered: list[tuple[str, str]] = []

    def install(target: str, action: str, message: str = "injected failure") -> None:
        def broken(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
            raise NonRetryableActionError(f"{message} ({target}.{action})")

        register_action(target, action, broken)
        registered.append((target, action))

    yield install
    for target, action in registered:
        unregister_action(target, action)


def outbox(workspace: Path) -> list[dict[str, Any]]:
    path = workspace / "slack" / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sheet_rows(workspace: Path, spreadsheet_id: str, sheet: str = "Sheet1") -> list[list[str]]:
    path = workspace / "sheets" / spreadsheet_id / f"{sheet}.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [row for row in csv.reader(handle)]


def card(workspace: Path, card_id: str) -> dict[str, Any] | None:
    path = workspace / "trello" / "cards" / f"{card_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def page(workspace: Path, page_id: str) -> dict[str, Any] | None:
    path = workspace / "notion" / "pages" / f"{page_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def data(result: Any, step_id: str) -> dict[str, Any]:
    step = result.step(step_id)
    assert step.result is not None, step
    return dict(step.result.data)


def _statuses(result: Any) -> dict[str, StepStatus]:
    return {step.step_id: step.status for step in result.steps}


# ---------------------------------------------------------------------------------------------- invoice


def test_invoice_commits(workspace: Path) -> None:
    pdf = SAMPLE_PDF.read_bytes()
    sent_before = len(outbox(workspace))
    result = handle_invoice(
        file_name="Invoice-Acme-2025-001.pdf",
        file_buffer=pdf,
        vendor="Acme Corporation",
        amount=1500.00,
        due_date="2025-02-15",
        spreadsheet_id="e2e-invoices-commit",
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    assert result.success and not result.rollback_performed
    assert _statuses(result) == {
        "file-drive": StepStatus.COMPLETED,
        "approve-payment": StepStatus.SKIPPED,
        "update-sheet": StepStatus.COMPLETED,
        "notify-accounting": StepStatus.COMPLETED,
    }
    assert result.step("approve-payment").reason == "condition false"  # 1500 <= approvalThreshold
    filed = data(result, "file-drive")
    assert filed["folder"] == "Invoices"
    assert (workspace / "drive" / "Invoices" / filed["name"]).read_bytes() == pdf
    assert filed["webViewLink"]
    rows = sheet_rows(workspace, "e2e-invoices-commit")
    assert rows[0] == ["Date", "Vendor", "Amount", "Due Date", "Status", "Link"]
    assert rows[-1][1:] == ["Acme Corporation", "1500.0", "2025-02-15", "Pending", filed["webViewLink"]]
    # Date = the run's date ($run.date), the seed's "2025-01-15" format.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[-1][0])
    messages = outbox(workspace)[sent_before:]
    assert len(messages) == 1
    assert messages[0]["channel"] == "accounting"
    assert "Acme Corporation" in json.dumps(messages[0])


def _large_invoice(workspace: Path, answer: Any, sheet: str) -> Any:
    from airflow_provider_wfo.local.runner import run_workflow
    from airflow_provider_wfo.prebuilt.definitions import load_prebuilt

    staged = workspace / "inbox" / f"big-{sheet}.pdf"  # a file the drive connector may read
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(SAMPLE_PDF.read_bytes())
    conf = {
        "fileName": f"Invoice-Big-{sheet}.pdf", "filePath": str(staged), "vendor": "Big Vendor",
        "amount": 25000, "dueDate": "2025-03-01", "spreadsheetId": sheet,
    }
    return run_workflow(load_prebuilt("invoice"), conf, answers={"approve-payment": answer}).result


def test_invoice_over_the_threshold_is_tracked_once_approved(workspace: Path) -> None:
    from airflow_provider_wfo.local.answers import Answer

    result = _large_invoice(workspace, Answer(True, "ok"), "e2e-invoices-approved")
    assert result.status is WorkflowStatus.COMPLETED, result.error
    approval = data(result, "approve-payment")
    assert approval["approved"] is True and approval["comment"] == "ok"
    assert sheet_rows(workspace, "e2e-invoices-approved")[-1][1:3] == ["Big Vendor", "25000"]


def test_invoice_over_the_threshold_rejected_deletes_the_filed_document(workspace: Path) -> None:
    from airflow_provider_wfo.local.answers import Answer

    result = _large_invoice(workspace, Answer(False, "not ours"), "e2e-invoices-rejected")
    assert result.status is WorkflowStatus.ROLLED_BACK
    assert result.failed_step == "approve-payment"
    assert "not ours" in (result.step("approve-payment").error or "")
    assert result.step("file-drive").rolled_back
    assert not (workspace / "drive" / "Invoices" / "Invoice-Big-e2e-invoices-rejected.pdf").exists()
    assert sheet_rows(workspace, "e2e-invoices-rejected") == []


def test_invoice_under_a_raised_threshold_needs_no_approval(workspace: Path) -> None:
    result = handle_invoice(
        file_name="Invoice-Big-raised.pdf",
        file_buffer=SAMPLE_PDF.read_bytes(),
        vendor="Big Vendor",
        amount=25000,
        due_date="2025-03-01",
        spreadsheet_id="e2e-invoices-raised",
        approval_threshold=50000,
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    assert result.step("approve-payment").status is StepStatus.SKIPPED


def test_invoice_rolls_back_when_the_sheet_fails(workspace: Path, fail_action: Any) -> None:
    fail_action("sheets", "update_sheet", "tracking sheet unavailable")
    sent_before = len(outbox(workspace))
    result = handle_invoice(
        file_name="Invoice-Rollback-001.pdf",
        file_path=SAMPLE_PDF,
        vendor="Rollback Ltd",
        amount=99,
        due_date="2025-03-01",
        spreadsheet_id="e2e-invoices-rollback",
        deployment="local",
    )
    assert result.status is WorkflowStatus.ROLLED_BACK, result
    assert not result.success and result.rollback_performed
    assert result.failed_step == "update-sheet"
    assert "tracking sheet unavailable" in (result.error or "")
    drive = result.step("file-drive")
    assert drive.rolled_back and drive.status is StepStatus.ROLLED_BACK
    assert result.step("update-sheet").status is StepStatus.FAILED
    assert result.step("notify-accounting").status is StepStatus.SKIPPED
    assert not list((workspace / "drive").rglob("Invoice-Rollback-001*.pdf"))
    assert sheet_rows(workspace, "e2e-invoices-rollback") == []
    assert len(outbox(workspace)) == sent_before


def test_invoice_slack_failure_is_optional(
    workspace: Path, fail_action: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The seed: "Slack notification failure doesn't trigger rollback (optional step)".
    fail_action("slack", "send_notification", "slack is down")
    result = handle_invoice(
        file_name="Invoice-NoSlack-001.pdf",
        file_buffer=b"%PDF-1.4 tiny",
        vendor="Quiet Inc",
        amount=10.5,
        due_date="2025-04-01",
        spreadsheet_id="e2e-invoices-noslack",
        deployment="local",
        progress=True,
    )
    shown = capsys.readouterr().err
    assert "✓ File Invoice in Drive" in shown and "✗ Notify Accounting" in shown, shown
    assert result.status is WorkflowStatus.COMPLETED
    assert result.step("notify-accounting").status is StepStatus.FAILED_OPTIONAL
    assert not result.rollback_performed
    filed = data(result, "file-drive")
    assert (workspace / "drive" / "Invoices" / filed["name"]).exists()
    assert sheet_rows(workspace, "e2e-invoices-noslack")[-1][1] == "Quiet Inc"


# ------------------------------------------------------------------------------------------ bug report


def test_bug_report_commits(workspace: Path) -> None:
    sent_before = len(outbox(workspace))
    result = handle_bug_report(
        title="Login button not responsive on mobile",
        description="iOS users report the login button does not respond to taps",
        severity="High",
        reporter="support@example.com",
        spreadsheet_id="e2e-bugs-commit",
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    created = data(result, "create-card")
    stored = card(workspace, created["id"])
    assert stored is not None
    assert stored["name"] == "[BUG] Login button not responsive on mobile"
    text = json.dumps(stored)
    assert "**Severity:** High" in text and "**Reporter:** support@example.com" in text
    assert sorted(stored["labels"]) == ["bug", "high"]
    messages = outbox(workspace)[sent_before:]
    assert [m["channel"] for m in messages] == ["engineering"]
    assert result.step("page-on-call").status is StepStatus.SKIPPED  # High is not Critical
    assert result.step("page-on-call").reason == "condition false"
    alert = json.dumps(messages[0], ensure_ascii=False)
    assert "🐛 New Bug Report" in alert and created["url"] in alert
    rows = sheet_rows(workspace, "e2e-bugs-commit")
    assert rows[0] == ["Date", "Title", "Severity", "Reporter", "Status", "Card"]
    assert rows[-1][1:] == [
        "Login button not responsive on mobile",
        "High",
        "support@example.com",
        "Open",
        created["url"],
    ]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[-1][0])


def test_bug_report_critical_pages_on_call(workspace: Path) -> None:
    sent_before = len(outbox(workspace))
    result = handle_bug_report(
        title="Payments down",
        description="Checkout returns 500 for every card",
        severity="Critical",
        reporter="oncall@example.com",
        spreadsheet_id="e2e-bugs-critical",
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    assert result.step("page-on-call").status is StepStatus.COMPLETED
    messages = outbox(workspace)[sent_before:]
    assert sorted(m["channel"] for m in messages) == ["engineering", "on-call"]
    page_text = json.dumps(next(m for m in messages if m["channel"] == "on-call"), ensure_ascii=False)
    assert "🚨 Critical bug: Payments down" in page_text
    assert data(result, "create-card")["url"] in page_text


def test_bug_report_rolls_back_when_tracking_fails(workspace: Path, fail_action: Any) -> None:
    fail_action("sheets", "update_sheet", "bug sheet unavailable")
    result = handle_bug_report(
        title="Crash on save",
        description="Saving a draft crashes the editor",
        severity="Critical",
        reporter="qa@example.com",
        spreadsheet_id="e2e-bugs-rollback",
        deployment="local",
    )
    assert result.status is WorkflowStatus.ROLLED_BACK, result
    assert result.failed_step == "track-sheet"
    created = result.step("create-card")
    assert created.rolled_back
    assert created.result is not None
    assert card(workspace, created.result.data["id"]) is None
    assert sheet_rows(workspace, "e2e-bugs-rollback") == []


# --------------------------------------------------------------------------------------------- meeting


def test_meeting_commits(workspace: Path) -> None:
    sent_before = len(outbox(workspace))
    attendees = ["john@example.com", "jane@example.com", "bob@example.com"]
    result = handle_meeting(
        title="Q1 Sprint Planning",
        date="2025-01-20",
        time="10:00 AM",
        duration=60,
        attendees=attendees,
        agenda=SEED_AGENDA,
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    created = data(result, "create-notion")
    stored = page(workspace, created["id"])
    assert stored is not None
    text = json.dumps(stored)
    for expected in (
        "Q1 Sprint Planning",
        "2025-01-20",
        "10:00 AM",
        "60 minutes",
        "Meeting",
        "Set Q1 goals",
        *attendees,
    ):
        assert expected in text, expected
    messages = outbox(workspace)[sent_before:]
    assert len(messages) == 1
    assert "Q1 Sprint Planning" in json.dumps(messages[0]) and created["url"] in json.dumps(messages[0])


def test_meeting_rolls_back_when_attendees_cannot_be_notified(workspace: Path, fail_action: Any) -> None:
    fail_action("slack", "send_notification", "slack is down")
    result = handle_meeting(
        title="Retro",
        date="2025-01-24",
        time="16:00",
        duration=45,
        attendees=["team@example.com"],
        agenda="What went well",
        deployment="local",
    )
    assert result.status is WorkflowStatus.ROLLED_BACK, result
    created = result.step("create-notion")
    assert created.rolled_back and created.result is not None
    stored = page(workspace, created.result.data["id"])
    assert stored is None or stored.get("archived") is True


# ---------------------------------------------------------------------------------------------- report


def test_report_commits(workspace: Path) -> None:
    sent_before = len(outbox(workspace))
    result = handle_report(
        file_name="Q4-2024-Financial-Report.pdf",
        file_buffer=SAMPLE_PDF.read_bytes(),
        report_type="Quarterly Financial Report",
        stakeholders=["ceo@example.com", "cfo@example.com", "board@example.com"],
        due_date="2025-01-31",
        deployment="local",
    )
    assert result.status is WorkflowStatus.COMPLETED, result.error
    filed = data(result, "file-report")
    assert filed["folder"] == "Reports"
    assert (workspace / "drive" / "Reports" / filed["name"]).exists()
    task = data(result, "create-review-task")
    stored = card(workspace, task["id"])
    assert stored is not None
    assert stored["name"] == "Review: Quarterly Financial Report"
    text = json.dumps(stored)
    assert "Please review the Quarterly Financial Report" in text
    assert "**Due Date:** 2025-01-31" in text and filed["webViewLink"] in text
    assert "2025-01-31" in str(stored.get("due"))
    assert sorted(stored["labels"]) == ["report", "review"]
    messages = outbox(workspace)[sent_before:]
    assert [m["channel"] for m in messages] == ["leadership"]


def test_report_rolls_back_when_the_review_task_fails(workspace: Path, fail_action: Any) -> None:
    fail_action("trello", "create_task", "trello is down")
    result = handle_report(
        file_name="Weekly-Rollback-Report.pdf",
        file_buffer=b"%PDF-1.4 report",
        report_type="Weekly Report",
        stakeholders=["ops@example.com"],
        due_date="2025-02-07",
        deployment="local",
    )
    assert result.status is WorkflowStatus.ROLLED_BACK, result
    assert result.failed_step == "create-review-task"
    assert result.step("file-report").rolled_back
    assert not list((workspace / "drive").rglob("Weekly-Rollback-Report*.pdf"))
    assert result.step("notify-stakeholders").status is StepStatus.SKIPPED
