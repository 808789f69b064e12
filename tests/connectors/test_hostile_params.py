"""Hostile and careless params (issue 12 items 6, 7 and 9): they fail at once (non-retryable) with
a message that names no worker path; the local CSV survives control characters and formulas."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wfo.actions.registry import NonRetryableActionError

from .conftest import Call


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize(
    ("target", "action", "params", "message"),
    [
        ("http", "request", {"url": "http://127.0.0.1:9/x", "timeout": "abc"}, "timeout"),
        (
            "http",
            "request",
            {"url": "http://127.0.0.1:9/x", "headers": {"X A:b": "1"}},
            "not a valid header name",
        ),
        ("http", "request", {"url": "http://127.0.0.1:9/x", "headers": {"X-A": "a\r\nB: c"}}, "CR, LF"),
        ("drive", "file_document", {"name": "a.txt", "filePath": "x" * 5000}, "filePath"),
        ("drive", "file_document", {"name": "a.txt", "filePath": "ok.txt/x"}, "not found"),
        ("drive", "file_document", {"name": "a.txt", "filePath": ("y" * 300) + ".txt"}, "not found"),
        ("drive", "file_document", {"nmae": "a.txt"}, "did you mean 'name'"),
        ("sheets", "update_sheet", {"spreadsheetId": "s", "operation": "NOPE", "values": [1]}, "operation"),
        ("email", "send_email", {"to": "a@x", "html": "yes"}, "html"),
    ],
)
def test_bad_params_fail_at_once_without_paths(
    workspace: Path, call: Call, target: str, action: str, params: dict, message: str
) -> None:
    (workspace / "inbox").mkdir(parents=True, exist_ok=True)
    (workspace / "inbox" / "ok.txt").write_text("hello")
    with pytest.raises(NonRetryableActionError, match=message) as info:
        call(target, action, params)
    text = str(info.value)
    assert str(workspace) not in text and str(workspace.resolve()) not in text and len(text) < 1000


def test_a_bare_cr_never_splits_a_row_and_rollback_really_removes_it(workspace: Path, call: Call) -> None:
    sid = {"spreadsheetId": "inv", "header": ["Vendor\rName", "Amount"]}
    kept = call("sheets", "update_sheet", {**sid, "values": ["Keep", 1]}, key="dag:run0:s")
    res = call("sheets", "update_sheet", {**sid, "values": ["Acme\rCorp", 1500]})
    path = workspace / "sheets" / "inv" / "Sheet1.csv"
    assert _csv(path) == [["Vendor\rName", "Amount"], ["Keep", "1"], ["Acme\rCorp", "1500"]]
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]}, rollback=True)
    assert _csv(path) == [["Vendor\rName", "Amount"], ["Keep", "1"]]
    # Row ids stayed on their rows: deleting the other append removes exactly "Keep".
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": kept["rowId"]}, rollback=True)
    assert not path.exists()  # only the header this workflow wrote was left: back to no sheet


def test_ranges_past_what_google_sheets_allows_are_refused_before_allocating(
    workspace: Path, call: Call
) -> None:
    call("sheets", "update_sheet", {"spreadsheetId": "s", "values": ["a", "b"]})
    for rng in ("A1:XFD1048576", "A1:AAAA2", "A99999999"):
        with pytest.raises(NonRetryableActionError, match=r"Google Sheets|A1 notation"):
            call("sheets", "update_sheet", {"spreadsheetId": "s", "operation": "CLEAR_RANGE", "range": rng})
    # An open range within the limits costs what the sheet holds, not what the range spans.
    cleared = call(
        "sheets", "update_sheet", {"spreadsheetId": "s", "operation": "CLEAR_RANGE", "range": "A1:ZZZ"}
    )
    assert cleared["previousValues"] == [["a", "b"]]


def test_formulas_from_conf_stay_text_in_the_local_csv_unless_opted_in(workspace: Path, call: Call) -> None:
    values = [
        '=HYPERLINK("http://evil")',
        "=cmd|' /C calc'!A0",
        "+1+1",
        "@SUM(1,1)",
        "-5",
        "'quoted",
        "plain",
    ]
    call("sheets", "update_sheet", {"spreadsheetId": "f", "values": values})
    row = _csv(workspace / "sheets" / "f" / "Sheet1.csv")[0]
    assert row == [
        '\'=HYPERLINK("http://evil")',
        "'=cmd|' /C calc'!A0",
        "'+1+1",
        "'@SUM(1,1)",
        "-5",
        "''quoted",
        "plain",
    ]
    call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "g", "values": ["=SUM(1,1)"], "valueInputOption": "USER_ENTERED"},
    )
    assert _csv(workspace / "sheets" / "g" / "Sheet1.csv")[0] == ["=SUM(1,1)"]


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(TEXT, min_size=1, max_size=4), min_size=1, max_size=3),
    other=st.lists(TEXT, min_size=1, max_size=3),
)
def test_any_text_round_trips_and_rollback_leaves_the_sheet_as_found(
    workspace: Path, call: Call, rows: list[list[str]], other: list[str]
) -> None:
    import shutil

    shutil.rmtree(workspace / "sheets", ignore_errors=True)
    shutil.rmtree(workspace / ".wfo", ignore_errors=True)
    call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "h", "values": other, "valueInputOption": "USER_ENTERED"},
        key="k:r:o",
    )
    path = workspace / "sheets" / "h" / "Sheet1.csv"
    before = path.read_bytes() if path.exists() else None
    res = call(
        "sheets", "update_sheet", {"spreadsheetId": "h", "values": rows, "valueInputOption": "USER_ENTERED"}
    )
    assert _csv(path)[-len(rows) :] == rows  # control characters, CR, quotes, unicode: exactly
    call("sheets", "delete_row", {"spreadsheetId": "h", "rowId": res["rowId"]}, rollback=True)
    assert (path.read_bytes() if path.exists() else None) == before
