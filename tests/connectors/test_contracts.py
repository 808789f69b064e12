"""The contract checkers themselves: each catches what its spec forbids, so a stand-in test that
passes through them could have failed. Plus what the specs say about our configuration (scopes)."""

from __future__ import annotations

import json

import pytest

from .contracts import notion_spec, slack_spec, trello_spec
from .contracts.google_discovery import Discovery


@pytest.fixture(scope="module")
def sheets() -> Discovery:
    return Discovery("sheets.v4")


@pytest.fixture(scope="module")
def drive() -> Discovery:
    return Discovery("drive.v3")


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def test_google_checker_catches_unknown_fields_params_enums_and_multi_row_metadata(sheets: Discovery) -> None:
    tag = {
        "requests": [
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": "wfoRowId",
                        "metadataValue": "row-1",
                        "visibility": "DOCUMENT",
                        "location": {
                            "dimensionRange": {
                                "sheetId": 7,
                                "dimension": "ROWS",
                                "startIndex": 3,
                                "endIndex": 5,
                            }
                        },
                    }
                }
            }
        ]
    }
    found = sheets.check(
        "POST", "/v4/spreadsheets/inv:batchUpdate", _json_headers(), json.dumps(tag).encode()
    )
    assert found.method == "sheets.spreadsheets.batchUpdate"
    assert any("must represent a single row or column" in p for p in found.problems)  # issue 13, defect 3
    tag["requests"][0]["createDeveloperMetadata"]["developerMetadata"]["location"]["dimensionRange"][
        "endIndex"
    ] = 4
    ok = sheets.check("POST", "/v4/spreadsheets/inv:batchUpdate", _json_headers(), json.dumps(tag).encode())
    assert ok.problems == []
    tag["requests"][0]["createDeveloperMetadata"]["developerMetadata"]["visibility"] = "PUBLIC"
    tag["requests"][0]["createDeveloperMetadata"]["developerMetadata"]["colour"] = "red"
    bad = sheets.check("POST", "/v4/spreadsheets/inv:batchUpdate", _json_headers(), json.dumps(tag).encode())
    assert any("'PUBLIC' is not one of" in p for p in bad.problems)
    assert any("developerMetadata.colour is not in the spec" in p for p in bad.problems)
    query = sheets.check(
        "POST", "/v4/spreadsheets/inv/values/A1:append?valueInputOption=RAWISH&bogus=1", {}, b""
    )
    assert any("RAWISH" in p for p in query.problems) and any("'bogus'" in p for p in query.problems)
    nowhere = sheets.check("DELETE", "/v4/spreadsheets/inv", {}, b"")
    assert nowhere.method == "?" and nowhere.problems


def test_google_checker_reads_multipart_upload_metadata(drive: Discovery) -> None:
    boundary = "xyz"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n"
        '{"name": "a.pdf", "folderColour": "red"}\r\n'
        f"--{boundary}\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--{boundary}--"
    ).encode()
    found = drive.check(
        "POST",
        "/upload/drive/v3/files?uploadType=multipart",
        {"Content-Type": f'multipart/related; boundary="{boundary}"'},
        body,
    )
    assert found.method == "drive.files.create"
    assert any("folderColour is not in the spec" in p for p in found.problems)


def test_the_default_scopes_are_accepted_by_every_method_the_backends_use(
    drive: Discovery, sheets: Discovery
) -> None:
    from airflow_provider_wfo.connectors.hooks.google import DRIVE_SCOPES, SHEETS_SCOPES

    for method in (
        "drive.files.list",
        "drive.files.create",
        "drive.files.get",
        "drive.files.update",
        "drive.files.delete",
        "drive.about.get",
        "drive.drives.get",
    ):
        assert set(DRIVE_SCOPES) & set(drive.scopes(method)), method
        assert "https://www.googleapis.com/auth/cloud-platform" not in drive.scopes(method)
    for method in (
        "sheets.spreadsheets.get",
        "sheets.spreadsheets.batchUpdate",
        "sheets.spreadsheets.values.append",
        "sheets.spreadsheets.values.get",
        "sheets.spreadsheets.values.update",
        "sheets.spreadsheets.values.clear",
        "sheets.spreadsheets.developerMetadata.search",
    ):
        assert set(SHEETS_SCOPES) & set(sheets.scopes(method)), method


def test_drive_and_sheets_hooks_ask_for_those_scopes(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_wfo.connectors.hooks.google import WfoDriveHook, WfoSheetsHook

    from .conftest import set_conn

    set_conn(monkeypatch, "g", conn_type="google_cloud_platform", extra={"is_anonymous": True})
    assert WfoDriveHook("g").scopes == ["https://www.googleapis.com/auth/drive"]
    assert WfoSheetsHook("g").scopes == ["https://www.googleapis.com/auth/spreadsheets"]
    set_conn(
        monkeypatch,
        "g",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "scope": "https://www.googleapis.com/auth/drive.file, x"},
    )
    assert WfoDriveHook("g").scopes == ["https://www.googleapis.com/auth/drive.file", "x"]


def test_slack_checker() -> None:
    assert slack_spec.check("chat.postMessage", {"channel": "C1", "text": "hi", "colour": "red"}) == [
        "chat.postMessage: argument 'colour' is not in the Web API method"
    ]
    bad_block = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert any(
        "blocks[0]" in p for p in slack_spec.check("chat.postMessage", {"channel": "C1", "blocks": bad_block})
    )
    extra_field = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "colour": "red"}]
    assert any(
        "lacks" in p for p in slack_spec.check("chat.postMessage", {"channel": "C1", "blocks": extra_field})
    )
    meta = {"event_type": "wfo_step", "event_payload": {"wfo_key": "k"}}
    assert slack_spec.check("chat.postMessage", {"channel": "C1", "text": "t", "metadata": meta}) == []


def test_notion_checker() -> None:
    headers = {"Notion-Version": "2025-09-03"}
    body = {
        "parent": {"type": "data_source_id", "data_source_id": "ds"},
        "properties": {
            "Type": {"select": {"name": "Meeting, Call"}},
            "Date": {"date": {"start": "15/01/2025"}},
        },
    }
    found = notion_spec.check("POST", "/v1/pages", headers, body)
    assert any("Type" in p for p in found) and any("Date" in p for p in found)
    assert notion_spec.check("PATCH", "/v1/pages/p1", headers, {"archived": True, "in_trash": True})
    assert notion_spec.check("PATCH", "/v1/pages/p1", {"Notion-Version": "2022-06-28"}, {"in_trash": True})


def test_trello_checker() -> None:
    assert trello_spec.check("POST", "/1/cards", {"idList": "L1", "name": "x", "pos": "top"}) == []
    assert trello_spec.check("POST", "/1/cards", {"name": "x"}) == [
        "POST /1/cards: required parameter 'idList' is missing"
    ]
    assert trello_spec.check("POST", "/1/labels", {"name": "n", "color": "teal", "idBoard": "b1"})
    assert trello_spec.check("GET", "/1/lists/L1/cards", {"fields": "id", "token": "t"})
    assert trello_spec.check("GET", "/1/search", {})
