"""sheets: ``update_sheet`` (APPEND_ROW, UPDATE_RANGE, CLEAR_RANGE), ``log_action`` and ``delete_row``.

Rollback choice: an appended row is DELETED (``delete_row`` with ``rowId: $step.rowId``), not marked
voided, so a rolled-back run leaves the sheet as it found it. The row is found by identity, not by
position: Google Sheets developer metadata (``wfoRowId``) is attached to the appended rows and moves
with them when other rows are inserted or deleted; the local backend keeps a row-id list beside
the CSV. The same metadata makes APPEND_ROW idempotent: an attempt first looks for its row id.
UPDATE_RANGE and CLEAR_RANGE return ``previousValues``; their rollback is UPDATE_RANGE with
``values: $step.previousValues`` and ``range: $step.range``.

Real backend: the Google provider's ``GSheetsHook`` (connection ``google_cloud_platform``; extra
``api_endpoint`` for a stand-in).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors import _google
from airflow_provider_wfo.connectors._common import NonRetryableActionError, key_digest, opt_str, req_str
from airflow_provider_wfo.connectors.a1 import (
    Box,
    Cell,
    parse_box,
    quote_sheet,
    rows_from_header,
    rows_of,
    split_sheet,
)
from airflow_provider_wfo.connectors.connections import ResolvedConnection, resolve, unsupported
from airflow_provider_wfo.connectors.local import sheets as local_sheets
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component

METADATA_KEY = "wfoRowId"
DEFAULT_SHEET = "Sheet1"
GOOGLE_TYPES = ("google_cloud_platform", "gcpssh", "google_cloud")
OPERATIONS = ("APPEND_ROW", "APPEND_ROWS", "UPDATE_RANGE", "CLEAR_RANGE")


def row_id_for(ctx: ActionContext) -> str:
    return "row-" + key_digest(ctx, 24)


# -- Google backend ------------------------------------------------------------------------------------
class _Google:
    def __init__(self, resolved: ResolvedConnection, spreadsheet_id: str) -> None:
        from airflow_provider_wfo.connectors.hooks.google import sheets_hook

        endpoint = resolved.extra.get("api_endpoint")
        self.hook = sheets_hook(resolved.conn_id, str(endpoint) if endpoint else None)
        self.sid = spreadsheet_id
        self.scrub = resolved.scrub
        self._sheets: dict[str, int] | None = None

    def call(self, fn: Any, what: str) -> Any:
        return _google.call(fn, f"sheets: {what}", self.scrub)

    @property
    def service(self) -> Any:
        return self.call(self.hook.get_conn, "connect")

    def sheets(self) -> dict[str, int]:
        if self._sheets is None:
            meta = self.call(
                lambda: (
                    self.service.spreadsheets()
                    .get(spreadsheetId=self.sid, fields="sheets.properties(sheetId,title)")
                    .execute()
                ),
                "read spreadsheet",
            )
            self._sheets = {
                s["properties"]["title"]: int(s["properties"]["sheetId"]) for s in meta.get("sheets", [])
            }
        return self._sheets

    def sheet_name(self, given: str | None) -> str:
        names = self.sheets()
        if given:
            if given not in names:
                raise NonRetryableActionError(f"spreadsheet has no sheet {given!r}")
            return given
        if not names:
            raise NonRetryableActionError("spreadsheet has no sheets")
        return next(iter(names))

    def find_rows(self, row_id: str) -> list[dict[str, Any]]:
        body = {
            "dataFilters": [
                {"developerMetadataLookup": {"metadataKey": METADATA_KEY, "metadataValue": row_id}}
            ]
        }
        found = self.call(
            lambda: (
                self.service.spreadsheets()
                .developerMetadata()
                .search(spreadsheetId=self.sid, body=body)
                .execute()
            ),
            "search row metadata",
        )
        out = []
        for match in found.get("matchedDeveloperMetadata", []) or []:
            dim = match.get("developerMetadata", {}).get("location", {}).get("dimensionRange")
            if dim:
                out.append(dim)
        return out

    def url(self, sheet_id: int | None = None) -> str:
        url = f"https://docs.google.com/spreadsheets/d/{self.sid}/edit"
        return url + (f"#gid={sheet_id}" if sheet_id is not None else "")

    def append(
        self,
        sheet_name: str | None,
        values: Any,
        row_id: str,
        ctx: ActionContext,
        header: list[Cell] | None = None,
    ) -> dict[str, Any]:
        name = self.sheet_name(sheet_name)
        by_id = {v: k for k, v in self.sheets().items()}
        for dim in self.find_rows(row_id):
            ctx.log.info("sheets: returning the row(s) an earlier attempt appended (%s)", row_id)
            start, end = int(dim.get("startIndex", 0)), int(dim["endIndex"])
            title = by_id.get(int(dim.get("sheetId", 0)), name)
            return self._result(
                title, row_id, start, end - start, None, f"{quote_sheet(title)}!{start + 1}:{end}"
            )
        existing: list[Any] = []
        if header or isinstance(values, dict):
            first_row = self.call(
                lambda: self.hook.get_values(self.sid, f"{quote_sheet(name)}!1:1"), "read header"
            )
            existing = list(first_row[0]) if first_row else []
            if header and not existing:
                # An empty sheet gets the header row first (untagged: a rollback keeps it).
                self.call(
                    lambda: self.hook.append_values(
                        self.sid,
                        f"{quote_sheet(name)}!A1",
                        [header],
                        value_input_option="USER_ENTERED",
                        insert_data_option="INSERT_ROWS",
                    ),
                    "write header",
                )
                existing = list(header)
        rows = rows_from_header(existing, values) if isinstance(values, dict) else rows_of(values)
        response = self.call(
            lambda: self.hook.append_values(
                self.sid,
                f"{quote_sheet(name)}!A1",
                rows,
                value_input_option="USER_ENTERED",
                insert_data_option="INSERT_ROWS",
            ),
            "append",
        )
        updated = str(response.get("updates", {}).get("updatedRange", ""))
        _, cells = split_sheet(updated)
        box = parse_box(cells) if cells else Box(0, 0, len(rows), None)
        count = (box.row1 or box.row0 + len(rows)) - box.row0
        sheet_id = self.sheets()[name]
        request = {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": METADATA_KEY,
                    "metadataValue": row_id,
                    "visibility": "DOCUMENT",
                    "location": {
                        "dimensionRange": {
                            "sheetId": sheet_id,
                            "dimension": "ROWS",
                            "startIndex": box.row0,
                            "endIndex": box.row0 + count,
                        }
                    },
                }
            }
        }
        self.call(
            lambda: (
                self.service.spreadsheets()
                .batchUpdate(spreadsheetId=self.sid, body={"requests": [request]})
                .execute()
            ),
            "tag appended row",
        )
        return self._result(name, row_id, box.row0, count, sheet_id, updated)

    def _result(
        self, name: str, row_id: str, start: int, count: int, sheet_id: int | None, rng: str
    ) -> dict[str, Any]:
        return {
            "spreadsheetId": self.sid,
            "sheetName": name,
            "rowId": row_id,
            "rowNumber": start + 1,
            "updatedRows": count,
            "range": rng,
            "url": self.url(sheet_id if sheet_id is not None else self.sheets().get(name)),
        }

    def write(self, sheet_name: str | None, a1: str, rows: list[list[Cell]] | None) -> dict[str, Any]:
        name = self.sheet_name(sheet_name)
        rng = f"{quote_sheet(name)}!{a1}"
        previous = self.call(lambda: self.hook.get_values(self.sid, rng), "read range")
        if rows is None:
            response = self.call(lambda: self.hook.clear(self.sid, rng), "clear range")
            cells = sum(len(r) for r in previous)
        else:
            response = self.call(
                lambda: self.hook.update_values(self.sid, rng, rows, value_input_option="USER_ENTERED"),
                "update range",
            )
            cells = int(response.get("updatedCells", sum(len(r) for r in rows)))
        return {
            "spreadsheetId": self.sid,
            "sheetName": name,
            "range": response.get("updatedRange") or response.get("clearedRange") or rng,
            "updatedCells": cells,
            "previousValues": previous,
            "url": self.url(self.sheets().get(name)),
        }

    def delete(self, row_id: str) -> dict[str, Any]:
        dims = self.find_rows(row_id)
        # Delete bottom-up so earlier deletions do not shift later ranges.
        dims.sort(key=lambda d: (int(d.get("sheetId", 0)), int(d.get("startIndex", 0))), reverse=True)
        requests = [
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": int(d.get("sheetId", 0)),
                        "dimension": "ROWS",
                        "startIndex": int(d.get("startIndex", 0)),
                        "endIndex": int(d["endIndex"]),
                    }
                }
            }
            for d in dims
        ]
        if requests:
            self.call(
                lambda: (
                    self.service.spreadsheets()
                    .batchUpdate(spreadsheetId=self.sid, body={"requests": requests})
                    .execute()
                ),
                "delete row",
            )
        deleted = sum(int(d["endIndex"]) - int(d.get("startIndex", 0)) for d in dims)
        return {"spreadsheetId": self.sid, "rowId": row_id, "deletedRows": deleted, "deleted": deleted > 0}


# -- dispatch --------------------------------------------------------------------------------------------
def _ids(params: dict[str, Any]) -> tuple[str, str | None, str | None]:
    sid = safe_component(req_str(params, "spreadsheetId", "sheetId"), "spreadsheetId")
    rng = opt_str(params, "range")
    sheet_in_range, cells = split_sheet(rng) if rng else (None, None)
    sheet = opt_str(params, "sheetName", "sheet") or sheet_in_range
    if sheet is not None:
        safe_component(sheet, "sheetName")
    return sid, sheet, cells


def _backend(ctx: ActionContext) -> ResolvedConnection:
    resolved = resolve(ctx)
    if resolved.is_local or resolved.conn_type in GOOGLE_TYPES:
        return resolved
    raise unsupported(resolved, "sheets", "google_cloud_platform")


def _append(params: dict[str, Any], values: Any, ctx: ActionContext) -> dict[str, Any]:
    resolved = _backend(ctx)
    sid, sheet, _ = _ids(params)
    row_id = row_id_for(ctx)
    raw_header = params.get("header")
    if raw_header is not None and not isinstance(raw_header, list):
        raise NonRetryableActionError("param 'header' must be a list of column names")
    header = rows_of(raw_header)[0] if raw_header else None
    if resolved.is_local:
        assert resolved.workspace is not None
        return local_sheets.append(
            Workspace(resolved.workspace), sid, sheet or DEFAULT_SHEET, values, row_id, ctx, header
        )
    return _Google(resolved, sid).append(sheet, values, row_id, ctx, header)


@register_builtin("sheets", "update_sheet")
def update_sheet(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    operation = (opt_str(params, "operation") or "APPEND_ROW").upper()
    if operation not in OPERATIONS:
        raise NonRetryableActionError(f"operation {operation!r} is not one of {', '.join(OPERATIONS)}")
    if operation in ("APPEND_ROW", "APPEND_ROWS"):
        values = params.get("values", params.get("row"))
        if values is None:
            raise NonRetryableActionError("param 'values' is required")
        return _append(params, values, ctx)
    resolved = _backend(ctx)
    sid, sheet, cells = _ids(params)
    if not cells:
        raise NonRetryableActionError(f"{operation} needs param 'range' (A1 notation, e.g. 'B2:D2')")
    box = parse_box(cells)
    rows = None if operation == "CLEAR_RANGE" else rows_of(params.get("values"))
    if resolved.is_local:
        assert resolved.workspace is not None
        return local_sheets.write_range(Workspace(resolved.workspace), sid, sheet or DEFAULT_SHEET, box, rows)
    return _Google(resolved, sid).write(sheet, cells, rows)


@register_builtin("sheets", "log_action")
def log_action(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    details = params.get("details", "")
    if not isinstance(details, str):
        details = json.dumps(details, default=str, sort_keys=True)
    row = [
        opt_str(params, "timestamp")
        or datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        req_str(params, "action"),
        opt_str(params, "status", default="") or "",
        details,
    ]
    return _append(params, row, ctx)


@register_builtin("sheets", "delete_row")
def delete_row(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = _backend(ctx)
    sid, sheet, _ = _ids(params)
    row_id = req_str(params, "rowId")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", row_id):
        raise NonRetryableActionError("rowId must be the rowId an append returned")
    if resolved.is_local:
        assert resolved.workspace is not None
        return local_sheets.delete_rows(Workspace(resolved.workspace), sid, sheet, row_id)
    return _Google(resolved, sid).delete(row_id)
