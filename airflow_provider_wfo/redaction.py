"""THE redaction of secrets: one module that every path uses before it writes anything a person,
a log or another system can read (errors, XComs, events, the trace, the CLI).

A connection secret travels in more forms than the literal string: URL-encoded in a query or a
form body (``quote``, ``quote_plus``), inside ``Authorization: Basic base64(login:password)``,
JSON-escaped in a JSON text (and twice in JSON inside JSON), ``repr``-escaped in an exception
message. An API that fails may echo any of them back. :func:`register` hands every form to
Airflow's secrets masker (the task SDK's, which also tells the supervisor, and the core one), so
Airflow's own log redaction covers them; :func:`redact` and :func:`mask_known` apply the same masker
to values we store. Credentials written into a URL (``scheme://user:password@host``) are removed
from any text that passes through here, registered or not.

Short values are not masked (Airflow's ``[logging] min_length_masked_secret``, 5 by default):
masking ``abc`` everywhere would destroy unrelated text and hide nothing.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MIN_LENGTH",
    "REPLACEMENT",
    "Scrubber",
    "mask_known",
    "redact",
    "redact_text",
    "register",
    "secret_forms",
    "strip_url_credentials",
]

REPLACEMENT = "***"
MIN_LENGTH = 5
#: ``scheme://user:password@``: the password part (a user name alone is not a secret).
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@:\"'<>]*):([^\s/?#@\"'<>]+)@")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _b64(text: str) -> set[str]:
    raw = text.encode("utf-8")
    forms = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return forms | {form.rstrip("=") for form in forms}


def secret_forms(secret: str, login: str | None = None) -> set[str]:
    """Every form ``secret`` can take on the wire; with ``login``, the Basic auth value too."""
    if not secret:
        return set()
    forms = {secret, html.escape(secret), repr(secret)[1:-1]}
    for safe in ("", "/"):
        forms |= {quote(secret, safe=safe), quote_plus(secret, safe=safe)}
    # Percent-encoding is case-insensitive (RFC 3986 2.1): some encoders write %2f.
    forms |= {_PERCENT.sub(lambda m: m.group(0).lower(), form) for form in list(forms)}
    escaped = json.dumps(secret)[1:-1]
    forms |= {escaped, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(escaped)[1:-1]}
    forms |= _b64(secret)
    if login is not None:
        forms |= _b64(f"{login}:{secret}")
    return {form for form in forms if len(form) >= MIN_LENGTH}


def register(secret: str | None, login: str | None = None) -> set[str]:
    """Register every form of ``secret`` with Airflow's secrets masker(s); returns the forms."""
    if not secret or len(secret) < MIN_LENGTH:
        return set()
    forms = secret_forms(secret, login)
    masks = []
    try:
        from airflow.sdk.log import mask_secret  # the task SDK's masker, and the supervisor's

        masks.append(mask_secret)
    except ImportError:  # pragma: no cover - a layout without the SDK
        pass
    try:
        from airflow._shared.secrets_masker import mask_secret as mask_core  # core processes

        masks.append(mask_core)
    except ImportError:  # pragma: no cover - a worker with the task SDK only
        pass
    for mask in masks:
        for form in forms:
            mask(form)
    return forms


def strip_url_credentials(text: str) -> str:
    """``http://user:pass@host`` -> ``http://user:***@host``, anywhere in ``text``."""
    if "://" not in text:
        return text
    return _URL_CREDENTIALS.sub(rf"\1\2:{REPLACEMENT}@", text)


def _airflow_masker() -> Any:
    from airflow.sdk._shared.secrets_masker import _secrets_masker

    return _secrets_masker()


def _walk_strings(value: Any, fix: Any) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, Mapping):
        return {fix(str(k)): _walk_strings(v, fix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk_strings(v, fix) for v in value]
    return value


def redact(value: Any) -> Any:
    """For display and audit (outcome params, conf, errors, events): Airflow's masker (sensitive
    key names, registered secrets) and URL credentials; the result is JSON-safe."""
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    masked = json.loads(json.dumps(airflow_redact(value), default=str))
    return _walk_strings(masked, strip_url_credentials)


def redact_text(text: str) -> str:
    redacted = redact(text)
    return redacted if isinstance(redacted, str) else str(redacted)


def mask_known(value: Any) -> Any:
    """For data later steps read (a step's result XCom): registered secrets and URL credentials
    only. Key names are left alone, so a result field named ``token`` that a later step passes on
    keeps working, while a connection secret an API echoed back never reaches the DB."""
    replacer = _airflow_masker().replacer

    def fix(text: str) -> str:
        if replacer is not None:
            text = replacer.sub(REPLACEMENT, text)
        return strip_url_credentials(text)

    return _walk_strings(json.loads(json.dumps(value, default=str)), fix)


class Scrubber:
    """Replaces known secrets, in every form, in text we are about to log, return or raise.

    Independent of the global masker, so a connector's error text is clean even where Airflow's
    masker is not configured (a test, a plain script)."""

    def __init__(self, secrets: Iterable[str | None] = (), login: str | None = None) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= 4:
                forms |= secret_forms(secret, login) | {secret}
        # Longest first, so a form that contains another is replaced whole.
        self.secrets = sorted(forms, key=len, reverse=True)

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self.secrets:
            out = out.replace(secret, REPLACEMENT)
        return strip_url_credentials(out)
