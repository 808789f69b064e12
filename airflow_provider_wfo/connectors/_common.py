"""Helpers shared by every connector: parameter checks, error classification, secret scrubbing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, NoReturn

from airflow_provider_wfo import redaction
from airflow_provider_wfo.actions.registry import ActionContext, ActionError, NonRetryableActionError

__all__ = [
    "ActionError",
    "NonRetryableActionError",
    "Scrubber",
    "as_list",
    "jsonable",
    "key_digest",
    "opt_str",
    "raise_for_status",
    "req_str",
]


def key_digest(ctx: ActionContext, length: int = 32) -> str:
    """A short, URL- and metadata-safe digest of the step's idempotency key.

    Remote systems limit metadata sizes (Drive appProperties: 124 bytes a pair) and a raw key holds
    dag and run ids, so the digest is what we store and search for.
    """
    return hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()[:length]


def req_str(params: Mapping[str, Any], name: str, *alts: str) -> str:
    for key in (name, *alts):
        value = params.get(key)
        if value is not None and value != "":
            if isinstance(value, (dict, list)):
                raise NonRetryableActionError(f"param {key!r} must be a string, not {type(value).__name__}")
            return str(value)
    raise NonRetryableActionError(f"param {name!r} is required")


def opt_str(params: Mapping[str, Any], name: str, *alts: str, default: str | None = None) -> str | None:
    for key in (name, *alts):
        value = params.get(key)
        if value is not None and value != "":
            if isinstance(value, (dict, list)):
                raise NonRetryableActionError(f"param {key!r} must be a string, not {type(value).__name__}")
            return str(value)
    return default


def as_list(value: Any, name: str) -> list[str]:
    """A list of strings from a list, or from one comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    raise NonRetryableActionError(f"param {name!r} must be a list or a comma-separated string")


def jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable (XCom stores JSON)."""
    return json.loads(json.dumps(value, default=str))


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def raise_for_status(status: int, what: str, detail: str = "") -> NoReturn:
    """Raise the error class that matches an HTTP status: 5xx/408/429 retry, other 4xx do not."""
    message = f"{what}: HTTP {status}" + (f": {detail[:500]}" if detail else "")
    if is_retryable_status(status):
        raise ActionError(message)
    raise NonRetryableActionError(message)


class Scrubber(redaction.Scrubber):
    """Known secrets (every form: :mod:`airflow_provider_wfo.redaction`) replaced in text we are
    about to log, return or raise."""

    def error(self, exc: BaseException, what: str, *, retryable: bool) -> ActionError:
        """A new action error describing ``exc`` without secrets (raise it ``from None``)."""
        message = f"{what}: {type(exc).__name__}: {self(exc)}"
        return ActionError(message) if retryable else NonRetryableActionError(message)
