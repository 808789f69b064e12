"""Google Sheets backend (GSheetsHook) against a stand-in checking requests per the Sheets API v4.

Docs: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/get,
https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/append,
https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/update,
https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/get,
https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.developerMetadata/search,
https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/batchUpdate
(CreateDeveloperMetadataRequest, DeleteDimensionRequest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn
from .contracts.google_discovery import Recorder


class FakeSheets:
    def __init__(self) -> None:
        self.rows: list[list[Any]] = [["Date", "Vendor", "Amount"]]
        self.metadata: list[dict[str, Any]] = []
        self.expect_input = "RAW"
        self.refuse_tags = False

    def __call__(self, request: Request) -> Response:
        path = unquote(request.path)
        m = re.fullmatch(r"/v4/spreadsheets/inv(.*)", path)
        if not m:
            return self.json({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}, 404)
        rest, method, q = m.group(1), request.method, request.args
        if method == "GET" and rest == "":
            assert q["fields"] == "sheets.properties(sheetId,title)"
            return self.json({"sheets": [{"properties": {"sheetId": 7, "title": "Invoices"}}]})
        if method == "POST" and rest == "/developerMetadata:search":
            lookup = request.json["dataFilters"][0]["developerMetadataLookup"]
            assert lookup["metadataKey"] == "wfoRowId"
            hits = [
                {"developerMetadata": d}
                for d in self.metadata
                if d["metadataValue"] == lookup["metadataValue"]
            ]
            return self.json({"matchedDeveloperMetadata": hits} if hits else {})
        if method == "POST" and rest == "/values/'Invoices'!A1:append":
            assert q["valueInputOption"] == "RAW" and q["insertDataOption"] == "INSERT_ROWS"
            body = request.json
            assert body["majorDimension"] == "ROWS"
            start = len(self.rows) + 1
            self.rows.extend(body["values"])
            return self.json(
                {
                    "spreadsheetId": "inv",
                    "updates": {
                        "updatedRange": f"Invoices!A{start}:C{len(self.rows)}",
                        "updatedRows": len(body["values"]),
                    },
                }
            )
        if method == "POST" and rest == ":batchUpdate":
            if self.refuse_tags and any("createDeveloperMetadata" in r for r in request.json["requests"]):
                return self.json(
                    {"error": {"code": 400, "message": "refused", "status": "INVALID_ARGUMENT"}}, 400
                )
            for req in request.json["requests"]:
                if "createDeveloperMetadata" in req:
                    meta = dict(req["createDeveloperMetadata"]["developerMetadata"])
                    assert meta["location"]["dimensionRange"]["dimension"] == "ROWS"
                    assert meta["location"]["dimensionRange"]["sheetId"] == 7
                    meta["metadataId"] = len(self.metadata) + 1
                    self.metadata.append(meta)
                elif "deleteDimension" in req:
                    rng = req["deleteDimension"]["range"]
                    assert rng["dimension"] == "ROWS" and rng["sheetId"] == 7
                    start, end = rng["startIndex"], rng["endIndex"]
                    del self.rows[start:end]
                    kept = []
                    for d in self.metadata:
                        dim = d["location"]["dimensionRange"]
                        if start <= dim["startIndex"] < end:
                            continue  # metadata on a deleted row goes with it
                        if dim["startIndex"] >= end:  # rows below move up, their metadata too
                            dim["startIndex"] -= end - start
                            dim["endIndex"] -= end - start
                        kept.append(d)
                    self.metadata = kept
            return self.json({"spreadsheetId": "inv", "replies": []})
        if method == "GET" and rest == "/values/'Invoices'!1:1":
            return self.json({"range": "Invoices!A1:C1", "values": self.rows[:1]})
        if method == "GET" and rest == "/values/'Invoices'!B2:C2":
            assert q["valueRenderOption"] == "FORMULA"
            return self.json({"range": "Invoices!B2:C2", "values": [r[1:3] for r in self.rows[1:2]]})
        if method == "PUT" and rest == "/values/'Invoices'!B2:C2":
            assert q["valueInputOption"] == self.expect_input
            self.rows[1][1:3] = request.json["values"][0]
            return self.json({"updatedRange": "Invoices!B2:C2", "updatedCells": 2})
        return self.json({"error": {"code": 400, "message": f"unexpected {method} {rest}"}}, 400)

    @staticmethod
    def json(value: Any, status: int = 200) -> Response:
        return Response(json.dumps(value), status=status, content_type="application/json")


@pytest.fixture
def contract() -> Iterator[Recorder]:
    """Every request the Sheets backend sends, checked against Google's sheets.v4 discovery document."""
    recorder = Recorder("sheets.v4")
    yield recorder
    recorder.assert_clean()


@pytest.fixture
def sheets(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, contract: Recorder) -> FakeSheets:
    fake = FakeSheets()

    def handler(request: Request) -> Response:
        contract(request)
        return fake(request)

    httpserver.expect_request(re.compile("/v4/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_sheets",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "num_retries": 0, "api_endpoint": httpserver.url_for("/")},
    )
    return fake


def test_append_tagged_idempotent_then_deleted(sheets: FakeSheets, call: Call) -> None:
    row = ["2025-01-15", "Acme Corp", 1500]
    res = call("sheets", "update_sheet", {"spreadsheetId": "inv", "operation": "APPEND_ROW", "values": row})
    assert res["rowNumber"] == 2 and res["sheetName"] == "Invoices" and res["updatedRows"] == 1
    assert res["url"] == "https://docs.google.com/spreadsheets/d/inv/edit#gid=7"
    assert sheets.rows[1] == row and sheets.metadata[0]["metadataValue"] == res["rowId"]
    again = call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": row}, attempt=2)
    assert again["rowId"] == res["rowId"] and again["rowNumber"] == 2 and len(sheets.rows) == 2
    other = call(
        "sheets", "update_sheet", {"spreadsheetId": "inv", "values": ["x", "y", 1]}, key="dag:run2:s"
    )
    assert other["rowNumber"] == 3

    gone = call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]}, rollback=True)
    assert gone["deletedRows"] == 1
    assert sheets.rows == [["Date", "Vendor", "Amount"], ["x", "y", 1]]
    assert call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]})["deleted"] is False


def test_dict_values_and_update_range(sheets: FakeSheets, call: Call) -> None:
    call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": {"vendor": "Acme", "Amount": 5}})
    res = call(
        "sheets",
        "update_sheet",
        {
            "spreadsheetId": "inv",
            "operation": "UPDATE_RANGE",
            "range": "Invoices!B2:C2",
            "values": ["Beta", 6],
        },
        key="k2",
    )
    assert res["previousValues"] == [["Acme", 5]] and sheets.rows[1] == [None, "Beta", 6]


def test_errors(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    set_conn(
        monkeypatch,
        "wfo_sheets",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "num_retries": 0, "api_endpoint": httpserver.url_for("/")},
    )
    httpserver.expect_request("/v4/spreadsheets/inv").respond_with_json(
        {"error": {"code": 403, "message": "The caller does not have permission"}}, status=403
    )
    with pytest.raises(NonRetryableActionError, match="403"):
        call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": ["x"]})
    httpserver.clear()
    httpserver.expect_request("/v4/spreadsheets/inv").respond_with_json({"error": {"code": 503}}, status=503)
    with pytest.raises(ActionError) as info:
        call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": ["x"]})
    assert not isinstance(info.value, NonRetryableActionError)
    with pytest.raises(NonRetryableActionError, match="operation"):
        call("sheets", "update_sheet", {"spreadsheetId": "inv", "operation": "DROP_TABLE", "values": ["x"]})


def test_header_written_into_empty_sheet_untagged(sheets: FakeSheets, call: Call) -> None:
    sheets.rows = []
    res = call(
        "sheets", "update_sheet", {"spreadsheetId": "inv", "header": ["Date", "Vendor"], "values": ["d", "v"]}
    )
    assert sheets.rows == [["Date", "Vendor"], ["d", "v"]] and res["rowNumber"] == 2
    assert sheets.metadata[0]["location"]["dimensionRange"]["startIndex"] == 1
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]}, rollback=True)
    assert sheets.rows == [["Date", "Vendor"]]


def test_multi_row_append_tags_each_row_and_rolls_back_cleanly(sheets: FakeSheets, call: Call) -> None:
    before = [list(r) for r in sheets.rows]
    call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": ["keep", "me", 1]}, key="other")
    rows = [["2025-01-15", "Acme", 1], ["2025-01-16", "Beta", 2]]
    res = call("sheets", "update_sheet", {"spreadsheetId": "inv", "operation": "APPEND_ROWS", "values": rows})
    assert res["updatedRows"] == 2 and res["rowNumber"] == 3
    mine = [d for d in sheets.metadata if d["metadataValue"] == res["rowId"]]
    # One single-row tag per row (the contract fixture also checks every dimensionRange is one row).
    assert sorted(d["location"]["dimensionRange"]["startIndex"] for d in mine) == [2, 3]
    again = call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "inv", "operation": "APPEND_ROWS", "values": rows},
        attempt=2,
    )
    assert again["rowNumber"] == 3 and again["updatedRows"] == 2 and len(sheets.rows) == 4
    call("sheets", "delete_row", {"spreadsheetId": "inv", "rowId": res["rowId"]}, rollback=True)
    assert sheets.rows == [*before, ["keep", "me", 1]]


def test_rows_that_cannot_be_tagged_are_removed_again(sheets: FakeSheets, call: Call) -> None:
    before = [list(r) for r in sheets.rows]
    sheets.refuse_tags = True
    with pytest.raises(NonRetryableActionError, match="400"):
        call("sheets", "update_sheet", {"spreadsheetId": "inv", "values": [["a", "b", 1], ["c", "d", 2]]})
    assert sheets.rows == before  # nothing left that no rollback could find


def test_conf_formulas_stay_text_and_undo_restores_formulas(sheets: FakeSheets, call: Call) -> None:
    call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "inv", "values": ['=HYPERLINK("http://x")', "+1+1", "@SUM(1,1)"]},
    )
    # RAW (the append fixture asserts valueInputOption=RAW): Sheets stores these as text.
    sheets.rows[1] = [None, "=SUM(C3:C9)", 5]
    res = call(
        "sheets",
        "update_sheet",
        {"spreadsheetId": "inv", "operation": "UPDATE_RANGE", "range": "Invoices!B2:C2", "values": ["x", 1]},
        key="k2",
    )
    assert res["previousValues"] == [["=SUM(C3:C9)", 5]]  # read with valueRenderOption=FORMULA
    sheets.expect_input = "USER_ENTERED"
    call(
        "sheets",
        "update_sheet",
        {
            "spreadsheetId": "inv",
            "operation": "UPDATE_RANGE",
            "range": res["range"],
            "values": res["previousValues"],
            "valueInputOption": "USER_ENTERED",
        },
        key="k2",
        rollback=True,
    )
    assert sheets.rows[1] == [None, "=SUM(C3:C9)", 5]
