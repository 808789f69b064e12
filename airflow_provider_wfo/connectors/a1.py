"""A1 notation and row normalisation shared by the local and the Google Sheets backend."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_wfo.connectors._common import NonRetryableActionError

Cell = str | int | float | bool | None

_CELL = re.compile(r"^([A-Za-z]{1,3})?(\d{1,8})?$")
#: What Google Sheets allows: 10 million cells in a spreadsheet, 18,278 columns (ZZZ)
#: (https://support.google.com/drive/answer/37603). A range past these cannot exist in a real
#: sheet, and on the local backend it would only exhaust memory.
MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_sheet(a1: str) -> tuple[str | None, str]:
    """``'My Sheet'!A1:B2`` -> (``My Sheet``, ``A1:B2``)."""
    if "!" in a1:
        sheet, _, cells = a1.rpartition("!")
        if sheet.startswith("'") and sheet.endswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
        return sheet, cells
    return None, a1


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Box:
    """Zero-based, end-exclusive rectangle; ``None`` ends mean "to the end"."""

    row0: int
    col0: int
    row1: int | None
    col1: int | None


def parse_box(cells: str) -> Box:
    start, _, end = cells.partition(":")
    m1, m2 = _CELL.match(start.strip()), _CELL.match((end or start).strip())
    if not m1 or not m2 or not start.strip():
        raise NonRetryableActionError(f"range {cells!r} is not A1 notation")
    c0 = col_index(m1.group(1)) if m1.group(1) else 0
    r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
    c1 = col_index(m2.group(1)) + 1 if m2.group(1) else None
    r1 = int(m2.group(2)) if m2.group(2) else None
    if r0 < 0 or (r1 is not None and r1 <= r0) or (c1 is not None and c1 <= c0):
        raise NonRetryableActionError(f"range {cells!r} is empty or reversed")
    if max(r0 + 1, r1 or 0) > MAX_CELLS or max(c0 + 1, c1 or 0) > MAX_COLUMNS:
        raise NonRetryableActionError(f"range {cells!r} is past the largest sheet Google Sheets allows")
    if r1 is not None and c1 is not None and (r1 - r0) * (c1 - c0) > MAX_CELLS:
        raise NonRetryableActionError(
            f"range {cells!r} spans {(r1 - r0) * (c1 - c0):,} cells; "
            f"Google Sheets holds at most {MAX_CELLS:,}"
        )
    return Box(r0, c0, r1, c1)


def cell(value: Any) -> Cell:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, default=str)


def rows_of(values: Any) -> list[list[Cell]]:
    """One row from a flat list or a scalar; several from a list of lists."""
    if values is None:
        raise NonRetryableActionError("param 'values' is required")
    if isinstance(values, (list, tuple)):
        if values and all(isinstance(v, (list, tuple)) for v in values):
            return [[cell(c) for c in row] for row in values]
        return [[cell(c) for c in values]]
    if isinstance(values, dict):
        raise NonRetryableActionError("a dict of values needs a header row (see rows_from_header)")
    return [[cell(values)]]


def rows_from_header(header: list[Any], values: dict[str, Any]) -> list[list[Cell]]:
    """A dict of column name -> value laid out along the sheet's header row."""
    names = [str(h).strip().lower() for h in header]
    unknown = [k for k in values if str(k).strip().lower() not in names]
    if unknown:
        raise NonRetryableActionError(f"columns {unknown} are not in the header row {header}")
    row: list[Cell] = [None] * len(names)
    for key, value in values.items():
        row[names.index(str(key).strip().lower())] = cell(value)
    return [row]
