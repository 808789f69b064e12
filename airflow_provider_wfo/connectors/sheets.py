"""sheets: ``update_sheet`` (APPEND_ROW, UPDATE_RANGE, CLEAR_RANGE), ``log_action`` and ``delete_row``.

Rollback choice: an appended row is DELETED (``delete_row`` with ``rowId: $step.rowId``), not marked
voided, so a rolled-back run leaves the sheet as it found it. The row is found by identity, not by
position: every appended row carries Google Sheets developer metadata ``wfoRowId`` of its own (the
API allows a metadata location of one row only), which moves with the row when others are inserted
or deleted; the local backend keeps a row-id list beside the CSV. The same metadata makes
APPEND_ROW idempotent: an attempt first looks for its row id. UPDATE_RANGE and CLEAR_RANGE return
``previousValues`` (formulas as formulas); their rollback is UPDATE_RANGE with
``values: $step.previousValues``, ``range: $step.range`` and ``valueInputOption: USER_ENTERED``.

Formulas: values are written ``RAW`` by default, so a value from run conf such as ``=HYPERLINK(...)``
stays text. A definition opts in to formulas with ``valueInputOption: USER_ENTERED``, written
literally in the definition (a reference is refused there: whoever triggers a run must not switch
it on).

Real backend: the Google provider's ``GSheetsHook`` (connection ``google_cloud_platform``; extra
``api_endpoint`` for a stand-in).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors import _google
from airflow_provider_wfo.connectors._common import NonRetryableActionError, key_digest
from airflow_provider_wfo.connectors.a1 import (
    Box,
    Cell,
    parse_box,
    quote_sheet,
    rows_from_header,
    rows_of,
    split_sheet,
)
from airflow_provider_wfo.connectors.local.workspace import safe_component
from airflow_provider_wfo.connectors.runtime import Backend
from airflow_provider_wfo.connectors.spec import (
    LOCAL_CONN_TYPE,
    ActionSpec,
    Connector,
    Params,
    Result,
    Text,
    param,
    required,
)

METADATA_KEY = "wfoRowId"
DEFAULT_SHEET = "Sheet1"
GOOGLE_TYPES = ("google_cloud_platform", "gcpssh", "google_cloud")
OPERATIONS = ("APPEND_ROW", "APPEND_ROWS", "UPDATE_RANGE", "CLEAR_RANGE")
#: Rows one append may write: each gets its own metadata tag, and a batchUpdate stays small.
MAX_APPEND_ROWS = 1000
#: Google Sheets' limit on the text of one cell; the local CSV keeps the same one (a longer field
#: also passes Python's csv reader limit, so the sheet could no longer be read back).
MAX_CELL_CHARS = 50_000


def _cells_fit(value: Any) -> Any:
    """Refuse a cell longer than Google Sheets allows, anywhere in ``values`` (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and len(item) > MAX_CELL_CHARS:
            raise ValueError(
                f"a cell holds at most {MAX_CELL_CHARS:,} characters (Google Sheets), got {len(item):,}"
            )
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


CellsFit = AfterValidator(_cells_fit)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Operation = Annotated[
    Literal["APPEND_ROW", "APPEND_ROWS", "UPDATE_RANGE", "CLEAR_RANGE"], BeforeValidator(_upper)
]
InputOption = Annotated[Literal["RAW", "USER_ENTERED"], BeforeValidator(_upper)]
SheetId = Annotated[Text, Field(max_length=200)]

_VIO = (
    "How values are written: RAW (default: text stays text, nothing becomes a formula) or USER_ENTERED "
    "(parsed as typed into the UI: formulas, dates). Must be written in the definition, not a reference."
)


class _SheetParams(Params):
    spreadsheetId: SheetId = required(
        "spreadsheetId", "sheetId", description="The spreadsheet id (from its URL)."
    )
    sheetName: Text | None = param(
        "sheetName",
        "sheet",
        description="Sheet (tab) name; default: the first sheet (local: Sheet1).",
        max_length=200,
    )


class UpdateSheetParams(_SheetParams):
    operation: Operation = param(
        "operation", default="APPEND_ROW", description="What to do: " + ", ".join(OPERATIONS)
    )
    values: Annotated[Any, CellsFit] = param(
        "values",
        "row",
        description="A row, a list of rows, or {column: value} laid out by the header row "
        "(a cell holds at most 50,000 characters).",
    )
    header: Annotated[list[Any] | None, CellsFit] = param(
        "header", description="Column names, written first into an empty sheet."
    )
    range: Text | None = param(
        "range", description="A1 range for UPDATE_RANGE / CLEAR_RANGE, e.g. B2:D2.", max_length=300
    )
    valueInputOption: InputOption | None = param(
        "valueInputOption", description=_VIO, json_schema_extra={"wfoLiteral": True}
    )


class LogActionParams(_SheetParams):
    action: Text = required("action", description="What happened (second column).")
    status: Text | None = param("status", description="Third column.")
    details: Annotated[Any, CellsFit] = param(
        "details", description="Fourth column; objects are written as JSON."
    )
    timestamp: Text | None = param("timestamp", description="First column; default: now (UTC, ISO 8601).")


class DeleteRowParams(_SheetParams):
    rowId: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = required(
        "rowId", description="The rowId an append returned."
    )


class AppendResult(Result):
    spreadsheetId: str
    sheetName: str
    rowId: str
    rowNumber: int
    updatedRows: int
    range: str
    url: str


class WriteResult(Result):
    spreadsheetId: str
    sheetName: str
    range: str
    updatedCells: int
    previousValues: list[list[Any]]
    url: str


class UpdateSheetResult(Result):
    """APPEND_ROW fills the append fields, UPDATE_RANGE / CLEAR_RANGE the write fields."""

    spreadsheetId: str
    sheetName: str
    range: str
    url: str
    rowId: str | None = None
    rowNumber: int | None = None
    updatedRows: int | None = None
    updatedCells: int | None = None
    previousValues: list[list[Any]] | None = None


class DeleteRowResult(Result):
    spreadsheetId: str
    rowId: str
    deletedRows: int
    deleted: bool


def row_id_for(ctx: ActionContext) -> str:
    return "row-" + key_digest(ctx, 24)


def sheet_and_cells(params: _SheetParams, rng: str | None = None) -> tuple[str | None, str | None]:
    sheet_in_range, cells = split_sheet(rng) if rng else (None, None)
    sheet = params.sheetName or sheet_in_range
    if sheet is not None:
        safe_component(sheet, "sheetName")
    return sheet, cells


def header_row(params: UpdateSheetParams) -> list[Cell] | None:
    return rows_of(params.header)[0] if params.header else None


def log_row(params: LogActionParams) -> list[Cell]:
    details = params.details if params.details is not None else ""
    if not isinstance(details, str):
        details = json.dumps(details, default=str, sort_keys=True)
    stamp = params.timestamp or datetime.now(timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )
    return [stamp, params.action, params.status or "", details]


class SheetsBackend(Backend):
    """The three actions, written once over the four primitives each backend implements."""

    def append(
        self, sid: str, sheet: str | None, values: Any, row_id: str, header: list[Cell] | None, option: str
    ) -> AppendResult:
        raise NotImplementedError

    def write(
        self, sid: str, sheet: str | None, cells: str, rows: list[list[Cell]] | None, option: str
    ) -> WriteResult:
        raise NotImplementedError

    def delete(self, sid: str, sheet: str | None, row_id: str) -> DeleteRowResult:
        raise NotImplementedError

    def update_sheet(self, params: UpdateSheetParams) -> UpdateSheetResult:
        sid = safe_component(params.spreadsheetId, "spreadsheetId")
        option = params.valueInputOption or "RAW"
        sheet, cells = sheet_and_cells(params, params.range)
        if params.operation in ("APPEND_ROW", "APPEND_ROWS"):
            if params.values is None:
                raise NonRetryableActionError("param 'values' is required")
            row_id = row_id_for(self.ctx)
            done: Result = self.append(sid, sheet, params.values, row_id, header_row(params), option)
        else:
            if not cells:
                raise NonRetryableActionError(
                    f"{params.operation} needs param 'range' (A1 notation, e.g. 'B2:D2')"
                )
            parse_box(cells)
            rows = None if params.operation == "CLEAR_RANGE" else rows_of(params.values)
            done = self.write(sid, sheet, cells, rows, option)
        return UpdateSheetResult.model_validate(done.to_json())

    def log_action(self, params: LogActionParams) -> AppendResult:
        sid = safe_component(params.spreadsheetId, "spreadsheetId")
        sheet, _ = sheet_and_cells(params)
        return self.append(sid, sheet, log_row(params), row_id_for(self.ctx), None, "RAW")

    def delete_row(self, params: DeleteRowParams) -> DeleteRowResult:
        sid = safe_component(params.spreadsheetId, "spreadsheetId")
        sheet, _ = sheet_and_cells(params)
        return self.delete(sid, sheet, params.rowId)


class GoogleSheets(SheetsBackend):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from airflow_provider_wfo.connectors.hooks.google import WfoSheetsHook

        endpoint = self.extra.get("api_endpoint")
        self.hook = WfoSheetsHook(self.resolved.conn_id, str(endpoint) if endpoint else None)
        self._sheets: dict[str, int] | None = None
        self._service: Any = None
        self.sid = ""

    def call(self, fn: Any, what: str) -> Any:
        return _google.call(fn, f"sheets: {what}", self.scrub)

    def run(self, request: Any, what: str) -> Any:
        return self.call(lambda: request.execute(num_retries=self.hook.num_retries), what)

    @property
    def service(self) -> Any:
        if self._service is None:
            self._service = self.call(self.hook.get_conn, "connect")
        return self._service

    def sheets(self) -> dict[str, int]:
        if self._sheets is None:
            meta = self.run(
                self.service.spreadsheets().get(
                    spreadsheetId=self.sid, fields="sheets.properties(sheetId,title)"
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
        found = self.run(
            self.service.spreadsheets().developerMetadata().search(spreadsheetId=self.sid, body=body),
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

    def batch(self, requests: list[dict[str, Any]], what: str) -> Any:
        return self.run(
            self.service.spreadsheets().batchUpdate(spreadsheetId=self.sid, body={"requests": requests}), what
        )

    def append(
        self, sid: str, sheet: str | None, values: Any, row_id: str, header: list[Cell] | None, option: str
    ) -> AppendResult:
        self.sid = sid
        name = self.sheet_name(sheet)
        by_id = {v: k for k, v in self.sheets().items()}
        earlier = sorted(self.find_rows(row_id), key=lambda d: int(d.get("startIndex", 0)))
        if earlier:
            self.log.info("sheets: returning the row(s) an earlier attempt appended (%s)", row_id)
            start, end = int(earlier[0].get("startIndex", 0)), max(int(d["endIndex"]) for d in earlier)
            title = by_id.get(int(earlier[0].get("sheetId", 0)), name)
            return self._result(
                title, row_id, start, end - start, None, f"{quote_sheet(title)}!{start + 1}:{end}"
            )
        existing: list[Any] = []
        if header or isinstance(values, dict):
            first_row = self.call(
                lambda: self.hook.get_values(sid, f"{quote_sheet(name)}!1:1"), "read header"
            )
            existing = list(first_row[0]) if first_row else []
            if header and not existing:
                # An empty sheet gets the header row first (untagged: a rollback keeps it).
                self.call(
                    lambda: self.hook.append_values(
                        sid,
                        f"{quote_sheet(name)}!A1",
                        [header],
                        value_input_option="RAW",
                        insert_data_option="INSERT_ROWS",
                    ),
                    "write header",
                )
                existing = list(header)
        rows = rows_from_header(existing, values) if isinstance(values, dict) else rows_of(values)
        if len(rows) > MAX_APPEND_ROWS:
            raise NonRetryableActionError(
                f"one append writes at most {MAX_APPEND_ROWS} rows, got {len(rows)}"
            )
        response = self.call(
            lambda: self.hook.append_values(
                sid,
                f"{quote_sheet(name)}!A1",
                rows,
                value_input_option=option,
                insert_data_option="INSERT_ROWS",
            ),
            "append",
        )
        updated = str(response.get("updates", {}).get("updatedRange", ""))
        _, cells = split_sheet(updated)
        box = parse_box(cells) if cells else Box(0, 0, len(rows), None)
        count = (box.row1 or box.row0 + len(rows)) - box.row0
        sheet_id = self.sheets()[name]
        self.tag(sheet_id, box.row0, count, row_id)
        return self._result(name, row_id, box.row0, count, sheet_id, updated)

    def tag(self, sheet_id: int, start: int, count: int, row_id: str) -> None:
        """One developer metadata per appended row, in one batchUpdate (all or none). If tagging
        fails, the rows just appended are deleted again: an untagged row could not be rolled back."""
        requests = [
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": METADATA_KEY,
                        "metadataValue": row_id,
                        "visibility": "DOCUMENT",
                        "location": {
                            "dimensionRange": {
                                "sheetId": sheet_id,
                                "dimension": "ROWS",
                                "startIndex": row,
                                "endIndex": row + 1,
                            }
                        },
                    }
                }
            }
            for row in range(start, start + count)
        ]
        try:
            self.batch(requests, "tag appended rows")
        except Exception:
            undo = [
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "ROWS",
                            "startIndex": start,
                            "endIndex": start + count,
                        }
                    }
                }
            ]
            try:
                self.batch(undo, "remove the untagged rows")
            except Exception:
                raise NonRetryableActionError(
                    f"sheets: rows {start + 1}-{start + count} were appended but could not be tagged "
                    "nor removed; "
                    "delete them by hand before retrying"
                ) from None
            raise

    def _result(
        self, name: str, row_id: str, start: int, count: int, sheet_id: int | None, rng: str
    ) -> AppendResult:
        return AppendResult(
            spreadsheetId=self.sid,
            sheetName=name,
            rowId=row_id,
            rowNumber=start + 1,
            updatedRows=count,
            range=rng,
            url=self.url(sheet_id if sheet_id is not None else self.sheets().get(name)),
        )

    def write(
        self, sid: str, sheet: str | None, cells: str, rows: list[list[Cell]] | None, option: str
    ) -> WriteResult:
        self.sid = sid
        name = self.sheet_name(sheet)
        rng = f"{quote_sheet(name)}!{cells}"
        # FORMULA: a formula comes back as "=SUM(...)", so the undo (USER_ENTERED) restores it.
        previous = self.call(
            lambda: self.hook.get_values(sid, rng, value_render_option="FORMULA"), "read range"
        )
        if rows is None:
            response = self.call(lambda: self.hook.clear(sid, rng), "clear range")
            count = sum(len(r) for r in previous)
        else:
            response = self.call(
                lambda: self.hook.update_values(sid, rng, rows, value_input_option=option), "update range"
            )
            count = int(response.get("updatedCells", sum(len(r) for r in rows)))
        return WriteResult(
            spreadsheetId=sid,
            sheetName=name,
            range=response.get("updatedRange") or response.get("clearedRange") or rng,
            updatedCells=count,
            previousValues=previous,
            url=self.url(self.sheets().get(name)),
        )

    def delete(self, sid: str, sheet: str | None, row_id: str) -> DeleteRowResult:
        self.sid = sid
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
            self.batch(requests, "delete row")
        deleted = sum(int(d["endIndex"]) - int(d.get("startIndex", 0)) for d in dims)
        return DeleteRowResult(spreadsheetId=sid, rowId=row_id, deletedRows=deleted, deleted=deleted > 0)


_GOOGLE = "airflow_provider_wfo.connectors.sheets:GoogleSheets"

CONNECTOR = Connector(
    target="sheets",
    service="Google Sheets",
    summary="Appends rows (tagged, so a rollback deletes exactly them), updates and clears ranges.",
    actions=(
        ActionSpec(
            "update_sheet",
            UpdateSheetParams,
            UpdateSheetResult,
            "APPEND_ROW (default), UPDATE_RANGE or CLEAR_RANGE.",
            rollback='APPEND: delete_row {spreadsheetId, rowId: "$step.rowId"}; UPDATE/CLEAR: update_sheet '
            '{operation: UPDATE_RANGE, range: "$step.range", values: "$step.previousValues", '
            "valueInputOption: USER_ENTERED}",
        ),
        ActionSpec(
            "log_action",
            LogActionParams,
            AppendResult,
            "Append a row: timestamp, action, status, details.",
            rollback='delete_row {spreadsheetId, rowId: "$step.rowId"}',
        ),
        ActionSpec(
            "delete_row", DeleteRowParams, DeleteRowResult, "Delete the rows an append wrote (by rowId)."
        ),
    ),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.local.sheets:LocalSheets",
        **{t: _GOOGLE for t in GOOGLE_TYPES},
    },
    doctor="airflow_provider_wfo.connectors.doctor.google:check_sheets",
    real_backend="`GSheetsHook` (Sheets v4)",
)
