"""The seed's usage examples (workflow-orchestrator-guide.md), as run conf of the pre-built workflows."""

from __future__ import annotations

from typing import Any

SEED_AGENDA = """
1. Review Q4 accomplishments
2. Set Q1 goals and milestones
3. Assign tasks and responsibilities
4. Discuss blockers and dependencies
"""

SEED_CONF: dict[str, dict[str, Any]] = {
    "invoice": {
        "fileName": "Invoice-Acme-2025-001.pdf",
        "filePath": "/data/inbox/Invoice-Acme-2025-001.pdf",
        "vendor": "Acme Corporation",
        "amount": 1500.00,
        "dueDate": "2025-02-15",
        "spreadsheetId": "your-tracking-spreadsheet-id",
        # Not in the seed: issue 15 asks the invoice to ask for approval above this amount.
        "approvalThreshold": 10000,
    },
    "bug_report": {
        "title": "Login button not responsive on mobile",
        "description": "iOS users report the login button does not respond to taps",
        "severity": "High",
        "reporter": "support@example.com",
        "listId": "trello-backlog-list-id",
        "spreadsheetId": "bug-tracking-sheet-id",
    },
    "meeting": {
        "title": "Q1 Sprint Planning",
        "date": "2025-01-20",
        "time": "10:00 AM",
        "duration": 60,
        "attendees": ["john@example.com", "jane@example.com", "bob@example.com"],
        "agenda": SEED_AGENDA,
        "databaseId": "notion-meetings-db-id",
    },
    "report": {
        "fileName": "Q4-2024-Financial-Report.pdf",
        "filePath": "gs://reports/Q4-2024-Financial-Report.pdf",
        "reportType": "Quarterly Financial Report",
        "stakeholders": ["ceo@example.com", "cfo@example.com", "board@example.com"],
        "dueDate": "2025-01-31",
        "listId": "trello-review-list-id",
    },
}

#: The seed's optional fields: the form must not require them.
OPTIONAL_KEYS: dict[str, set[str]] = {
    "invoice": {"spreadsheetId", "approvalThreshold"},
    "bug_report": {"listId", "spreadsheetId"},
    "meeting": {"databaseId"},
    "report": {"listId"},
}

#: (key, wrong value) pairs each schema must refuse.
WRONG_VALUES: dict[str, list[tuple[str, Any]]] = {
    "invoice": [
        ("amount", "1500.00"),
        ("amount", -5),
        ("dueDate", "15/02/2025"),
        ("dueDate", 20250215),
        ("vendor", 42),
        ("fileName", ""),
    ],
    "bug_report": [
        ("severity", "Urgent"),
        ("severity", "high"),
        ("title", None),
        ("reporter", ["a@example.com"]),
    ],
    "meeting": [
        ("duration", "60"),
        ("duration", 0),
        ("duration", 1.5),
        ("date", "next monday"),
        ("attendees", "john@example.com"),
        ("attendees", []),
        ("time", "10 o'clock"),
    ],
    "report": [
        ("stakeholders", "ceo@example.com"),
        ("dueDate", "2025-13-01"),
        ("reportType", 7),
    ],
}
