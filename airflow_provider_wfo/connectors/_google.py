"""Error mapping for googleapiclient calls (Drive and Sheets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from airflow_provider_wfo.connectors._common import ActionError, Scrubber, raise_for_status

T = TypeVar("T")


def translate(exc: BaseException, what: str, scrub: Scrubber) -> NoReturn:
    """HTTP errors become retryable or not by status; transport errors retry; others do not."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, ActionError):
        raise exc
    if isinstance(exc, HttpError):
        raise_for_status(http_status(exc), what, scrub(_reason(exc)))
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
