"""Error mapping for googleapiclient calls (Drive and Sheets): retryable or not by status, and a
message that says what to change when Google says why (scope, role, storage quota)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from airflow_provider_wfo.connectors._common import ActionError, Scrubber, raise_for_status

T = TypeVar("T")

#: Google's error ``reason`` -> what to change. Reasons are listed in
#: https://developers.google.com/drive/api/guides/handle-errors and the Sheets equivalents.
FIXES: dict[str, str] = {
    "storageQuotaExceeded": "a service account has no Drive storage of its own: put the files on a shared "
    "drive (connection extra shared_drive_id, the account a Content manager of it) or set root_folder_id "
    "to a folder on one",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT": "the connection's scopes do not cover this API: set the connection "
    "extra scope (https://www.googleapis.com/auth/drive for Drive, .../auth/spreadsheets for Sheets)",
    "insufficientPermissions": "the credentials lack a scope or a role: check the connection extra scope and "
    "the account's role (wfo connections check shows both)",
    "insufficientFilePermissions": "the account's role on this file or folder is too small: "
    "on a shared drive make it Content manager (it must add files and move them to the trash)",
    "teamDriveFileLimitExceeded": "the shared drive is full (400,000 items)",
    "notFound": "the id is wrong, or the account cannot see it (share the folder or shared drive with the "
    "account's email)",
    "teamDriveNotFound": "the shared drive id is wrong, or the account is not a member of it",
    "PERMISSION_DENIED": "share the spreadsheet (or drive) with the account's email, as Editor",
}


def reasons(exc: Any) -> list[str]:
    """The ``reason`` / ``status`` values of a googleapiclient HttpError (the JSON error body)."""
    found: list[str] = []
    try:
        body = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
    except Exception:
        return found
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return found
    for item in error.get("errors") or []:
        if isinstance(item, dict) and item.get("reason"):
            found.append(str(item["reason"]))
    for item in error.get("details") or []:
        if isinstance(item, dict) and item.get("reason"):
            found.append(str(item["reason"]))
    if error.get("status"):
        found.append(str(error["status"]))
    return found


def fix_for(exc: Any) -> str:
    for reason in reasons(exc):
        if reason in FIXES:
            return FIXES[reason]
    return ""


def translate(exc: BaseException, what: str, scrub: Scrubber) -> NoReturn:
    """HTTP errors become retryable or not by status; transport errors retry; others do not."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, ActionError):
        raise exc
    if isinstance(exc, HttpError):
        detail = scrub(_reason(exc))
        fix = fix_for(exc)
        raise_for_status(http_status(exc), what, detail + (f" -- fix: {fix}" if fix else ""))
    name = type(exc).__name__
    retryable = isinstance(exc, (OSError, TimeoutError)) or any(
        word in name for word in ("Transport", "Timeout", "Connection")
    )
    raise scrub.error(exc, what, retryable=retryable) from None


def call(fn: Callable[[], T], what: str, scrub: Scrubber) -> T:
    try:
        return fn()
    except Exception as exc:
        translate(exc, what, scrub)


def _reason(exc: Any) -> str:
    try:
        return str(exc._get_reason())
    except Exception:
        return ""


def http_status(exc: BaseException) -> int:
    resp = getattr(exc, "resp", None)
    return int(getattr(resp, "status", 0) or 0)
