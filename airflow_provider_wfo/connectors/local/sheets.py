"""Local Sheets: ``<workspace>/sheets/<spreadsheetId>/<sheetName>.csv``.

Row ids of appended rows live in ``.wfo/sheets/<spreadsheetId>/<sheetName>.json``, a list aligned
with the CSV rows, so a rollback deletes exactly the rows its step appended even after other rows
were added or removed around them. The CSV is written with CRLF line ends, so Python's writer quotes
every field holding a CR or LF: a bare CR in a value can never split a row (and shift the row ids).

A CSV cell holds what a user would type: a value written RAW (the default) that a spreadsheet
program would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR) or that starts with ``'`` is
stored with a leading ``'``, which spreadsheet programs read as "text". USER_ENTERED writes the
value as given. ``previousValues`` are the cells as stored, so an undo written USER_ENTERED restores
them exactly.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, NonRetryableActionError
from airflow_provider_wfo.connectors.a1 import (
    Box,
    Cell,
    col_letters,
    parse_box,
    quote_sheet,
    rows_from_header,
    rows_of,
)
from airflow_provider_wfo.connectors.local.workspace import Workspace
from airflow_provider_wfo.connectors.runtime import LocalBackend
from airflow_provider_wfo.connectors.sheets import (
    DEFAULT_SHEET,
    AppendResult,
    DeleteRowResult,
    SheetsBackend,
    WriteResult,
)

TARGET = "sheets"
#: The local CSV is a stand-in for a sheet, not a database: a write past this row is refused
#: before any memory is allocated for it.
MAX_LOCAL_ROWS = 1_000_000


class _Sheet:
    def __init__(self, ws: Workspace, spreadsheet_id: str, sheet: str) -> None:
        self.ws = ws
        self.csv_path = ws.path(TARGET, spreadsheet_id, f"{sheet}.csv")
        self.ids_path = ws.meta(TARGET, spreadsheet_id, f"{sheet}.json")
        self.rows: list[list[str]] = []
        if self.csv_path.exists():
            with open(self.csv_path, newline="", encoding="utf-8") as handle:
                self.rows = [list(r) for r in csv.reader(handle)]
        ids = ws.read_json(self.ids_path, [])
        self.ids: list[str | None] = (list(ids) + [None] * len(self.rows))[: len(self.rows)]

    def save(self) -> None:
        while self.rows and not any(self.rows[-1]) and self.ids[-1] is None:
            self.rows.pop()
            self.ids.pop()
        if not self.rows:
            self.csv_path.unlink(missing_ok=True)
            self.ids_path.unlink(missing_ok=True)
            self.ws.remove_empty_dirs(self.csv_path.parent, self.ws.root)
            self.ws.remove_empty_dirs(self.ids_path.parent, self.ws.meta())
            return
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(self.rows)
        self.ws.write_bytes(self.csv_path, out.getvalue().encode("utf-8"))
        if any(self.ids):
            self.ws.write_json(self.ids_path, self.ids)
        else:
            self.ids_path.unlink(missing_ok=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _text(value: Cell, option: str = "USER_ENTERED") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = str(value)
    if (
        option == "RAW"
        and isinstance(value, str)
        and text.startswith(_FORMULA_START)
        and not _NUMBER.fullmatch(text)
    ):
        return "'" + text
    return text


def _url(ws: Workspace, sheet: _Sheet) -> str:
    return ws.uri(sheet.csv_path)


HEADER_ID = "header"


def append(
    ws: Workspace,
    spreadsheet_id: str,
    sheet_name: str,
    values: Any,
    row_id: str,
    ctx: ActionContext,
    header: list[Cell] | None = None,
    option: str = "RAW",
) -> dict[str, Any]:
    with ws.lock(TARGET):
        sheet = _Sheet(ws, spreadsheet_id, sheet_name)
        if row_id in sheet.ids:
            first = sheet.ids.index(row_id)
            count = sheet.ids.count(row_id)
            ctx.log.info("sheets: returning the row(s) an earlier attempt appended (%s)", row_id)
            width = max(len(r) for r in sheet.rows[first : first + count])
            return _append_result(ws, sheet, spreadsheet_id, sheet_name, row_id, first, count, width)
        if header and not sheet.rows:
            sheet.rows.append([_text(c, "RAW") for c in header])
            sheet.ids.append(HEADER_ID)
        if isinstance(values, dict):
            rows = rows_from_header(sheet.rows[0] if sheet.rows else [], values)
        else:
            rows = rows_of(values)
        first = len(sheet.rows)
        sheet.rows.extend([_text(c, option) for c in row] for row in rows)
        sheet.ids.extend([row_id] * len(rows))
        sheet.save()
        width = max((len(r) for r in rows), default=1)
        return _append_result(ws, sheet, spreadsheet_id, sheet_name, row_id, first, len(rows), width)


def _append_result(
    ws: Workspace, sheet: _Sheet, sid: str, name: str, row_id: str, first: int, count: int, width: int
) -> dict[str, Any]:
    return {
        "spreadsheetId": sid,
        "sheetName": name,
        "rowId": row_id,
        "rowNumber": first + 1,
        "updatedRows": count,
        "range": f"{quote_sheet(name)}!A{first + 1}:{col_letters(max(width, 1) - 1)}{first + count}",
        "url": _url(ws, sheet),
    }


def _window(sheet: _Sheet, box: Box, height: int, width: int) -> list[list[str]]:
    out = []
    for r in range(box.row0, box.row0 + height):
        row = sheet.rows[r] if r < len(sheet.rows) else []
        out.append([row[c] if c < len(row) else "" for c in range(box.col0, box.col0 + width)])
    return out


def write_range(
    ws: Workspace,
    spreadsheet_id: str,
    sheet_name: str,
    box: Box,
    rows: list[list[Cell]] | None,
    option: str = "RAW",
) -> dict[str, Any]:
    """Write ``rows`` at ``box`` (``None`` = clear the box); return the previous values."""
    with ws.lock(TARGET):
        sheet = _Sheet(ws, spreadsheet_id, sheet_name)
        if rows is None:
            # Clearing past the data changes nothing: clip the box to the data, so a range such
            # as A1:ZZZ10000000 costs what the sheet holds, not what the range spans.
            data_rows = len(sheet.rows)
            data_cols = max((len(r) for r in sheet.rows), default=0)
            end_row = min(box.row1 if box.row1 is not None else data_rows, max(data_rows, box.row0 + 1))
            end_col = min(box.col1 if box.col1 is not None else data_cols, max(data_cols, box.col0 + 1))
            height, width = end_row - box.row0, end_col - box.col0
            new: list[list[str]] = [[""] * width for _ in range(height)]
        else:
            new = [[_text(c, option) for c in row] for row in rows]
            height, width = len(new), max((len(r) for r in new), default=0)
        if box.row0 + height > MAX_LOCAL_ROWS:
            raise NonRetryableActionError(f"the local sheet holds at most {MAX_LOCAL_ROWS:,} rows")
        previous = _window(sheet, box, height, width)
        while len(sheet.rows) < box.row0 + height:
            sheet.rows.append([])
            sheet.ids.append(None)
        for i, row in enumerate(new):
            target = sheet.rows[box.row0 + i]
            if len(target) < box.col0 + len(row):
                target.extend([""] * (box.col0 + len(row) - len(target)))
            target[box.col0 : box.col0 + len(row)] = row
        for i, row in enumerate(sheet.rows):
            while row and row[-1] == "":
                row.pop()
            sheet.rows[i] = row
        sheet.save()
        last_col = col_letters(box.col0 + max(width, 1) - 1)
        first_cell = f"{col_letters(box.col0)}{box.row0 + 1}"
        return {
            "spreadsheetId": spreadsheet_id,
            "sheetName": sheet_name,
            "range": f"{quote_sheet(sheet_name)}!{first_cell}:{last_col}{box.row0 + height}",
            "updatedCells": sum(len(r) for r in new),
            "previousValues": previous,
            "url": _url(ws, sheet),
        }


def delete_rows(ws: Workspace, spreadsheet_id: str, sheet_name: str | None, row_id: str) -> dict[str, Any]:
    with ws.lock(TARGET):
        folder = ws.path(TARGET, spreadsheet_id)
        names = [sheet_name] if sheet_name else sorted(p.stem for p in folder.glob("*.csv"))
        deleted = 0
        for name in names:
            sheet = _Sheet(ws, spreadsheet_id, name)
            keep = [i for i, rid in enumerate(sheet.ids) if rid != row_id]
            if len(keep) == len(sheet.rows):
                continue
            deleted += len(sheet.rows) - len(keep)
            sheet.rows = [sheet.rows[i] for i in keep]
            sheet.ids = [sheet.ids[i] for i in keep]
            if all(rid == HEADER_ID for rid in sheet.ids):
                # Only the header an append wrote into an empty sheet is left: back to no sheet.
                sheet.rows, sheet.ids = [], []
            sheet.save()
        return {
            "spreadsheetId": spreadsheet_id,
            "rowId": row_id,
            "deletedRows": deleted,
            "deleted": deleted > 0,
        }


class LocalSheets(SheetsBackend, LocalBackend):
    def append(
        self, sid: str, sheet: str | None, values: Any, row_id: str, header: list[Cell] | None, option: str
    ) -> AppendResult:
        found = append(self.ws, sid, sheet or DEFAULT_SHEET, values, row_id, self.ctx, header, option)
        return AppendResult.model_validate(found)

    def write(
        self, sid: str, sheet: str | None, cells: str, rows: list[list[Cell]] | None, option: str
    ) -> WriteResult:
        found = write_range(self.ws, sid, sheet or DEFAULT_SHEET, parse_box(cells), rows, option)
        return WriteResult.model_validate(found)

    def delete(self, sid: str, sheet: str | None, row_id: str) -> DeleteRowResult:
        return DeleteRowResult.model_validate(delete_rows(self.ws, sid, sheet, row_id))
