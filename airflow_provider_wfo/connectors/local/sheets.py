"""Local Sheets: ``<workspace>/sheets/<spreadsheetId>/<sheetName>.csv``.

Row ids of appended rows live in ``.wfo/sheets/<spreadsheetId>/<sheetName>.json``, a list aligned
with the CSV rows, so a rollback deletes exactly the rows its step appended even after other rows
were added or removed around them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors.a1 import Box, Cell, col_letters, quote_sheet, rows_from_header, rows_of
from airflow_provider_wfo.connectors.local.workspace import Workspace

TARGET = "sheets"


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
        csv.writer(out, lineterminator="\n").writerows(self.rows)
        self.ws.write_bytes(self.csv_path, out.getvalue().encode("utf-8"))
        if any(self.ids):
            self.ws.write_json(self.ids_path, self.ids)
        else:
            self.ids_path.unlink(missing_ok=True)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


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
            sheet.rows.append([_text(c) for c in header])
            sheet.ids.append(HEADER_ID)
        if isinstance(values, dict):
            rows = rows_from_header(sheet.rows[0] if sheet.rows else [], values)
        else:
            rows = rows_of(values)
        first = len(sheet.rows)
        sheet.rows.extend([_text(c) for c in row] for row in rows)
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
    ws: Workspace, spreadsheet_id: str, sheet_name: str, box: Box, rows: list[list[Cell]] | None
) -> dict[str, Any]:
    """Write ``rows`` at ``box`` (``None`` = clear the box); return the previous values."""
    with ws.lock(TARGET):
        sheet = _Sheet(ws, spreadsheet_id, sheet_name)
        if rows is None:
            height = (box.row1 if box.row1 is not None else max(len(sheet.rows), box.row0 + 1)) - box.row0
            width = (
                box.col1 if box.col1 is not None else max((len(r) for r in sheet.rows), default=1)
            ) - box.col0
            new: list[list[str]] = [[""] * width for _ in range(height)]
        else:
            new = [[_text(c) for c in row] for row in rows]
            height, width = len(new), max((len(r) for r in new), default=0)
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
