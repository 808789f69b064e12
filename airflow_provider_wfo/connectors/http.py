"""http (also target ``integration``): action ``request``, the escape hatch for any HTTP API.

Params: ``method`` (default GET, or POST when ``json``/``data`` is given), ``url`` (absolute, sent
with no connection credentials) or ``endpoint`` (relative to the connection's base URL: the
default ``wfo_http`` or the step's ``connId``, through Airflow's ``HttpHook``, so auth and headers
come from the connection), ``headers``, ``query``, ``json``, ``data``, ``expectStatus`` (an int,
``"2xx"``-style class, or a list of them; default ``2xx``), ``timeout`` (seconds, default 60).

Result: ``{status, ok, headers, body}``; ``body`` is parsed when the response is JSON, text
otherwise (cut at 1 MB). ``Set-Cookie`` is not returned. A POST or PATCH carries the header
``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header: a quoted structured-field string),
the same digest of the step's key on every attempt, so an API that honours it performs the call
once; the raw key (dag, run and step ids) never leaves. GET, HEAD, OPTIONS, PUT and DELETE are
idempotent already and carry none. Connection credentials (auth, extra headers) never follow a
redirect to another origin. An unexpected status:
408, 429 and 5xx are retryable, anything else (other 4xx, 3xx) fails at once; network errors retry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, Field, field_validator

from airflow_provider_wfo import redaction
from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    is_retryable_status,
    key_digest,
)
from airflow_provider_wfo.connectors.runtime import Backend
from airflow_provider_wfo.connectors.spec import ActionSpec, Connector, Params, Result, Text, param

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
#: Methods that are not idempotent by themselves (RFC 9110 9.2.2), the ones the key is for.
KEYED_METHODS = ("POST", "PATCH")
MAX_BODY = 1024 * 1024
DROPPED_HEADERS = {"set-cookie", "set-cookie2"}
#: RFC 9110 5.1 field-name = token; 5.5 a field value has no CR, LF or NUL.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_EXPECT = re.compile(r"[1-5](\d\d|xx)", re.IGNORECASE)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class RequestParams(Params):
    method: (
        Annotated[
            Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], BeforeValidator(_upper)
        ]
        | None
    ) = param("method", description="Default GET, or POST when json/data is given.")
    url: Text | None = param(
        "url", description="Absolute http(s) URL, sent with no connection credentials.", max_length=8192
    )
    endpoint: Text | None = param(
        "endpoint",
        description="Path relative to the connection's base URL (auth and headers from it).",
        max_length=8192,
    )
    headers: dict[str, Text] | None = param("headers", description="Request headers.")
    query: dict[str, Any] | None = param("query", description="Query parameters.")
    json_: Any = param("json", description="JSON body.")
    data: Any = param("data", description="Form fields (object) or a raw body (string).")
    expectStatus: Annotated[int, Field(ge=100, le=599)] | Text | list[int | Text] | None = param(
        "expectStatus", description="201, '2xx', or a list of them (default 2xx)."
    )
    timeout: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = param(
        "timeout", default=60, description="Seconds per attempt (connect and read)."
    )

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, text in (value or {}).items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"{name[:60]!r} is not a valid header name")
            if _BAD_VALUE.search(text):
                raise ValueError(f"header {name!r} has a CR, LF or NUL in its value")
        return value


class RequestResult(Result):
    status: int
    ok: bool
    headers: dict[str, str]
    body: Any
    bodyTruncated: bool | None = None


def expected_statuses(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw if raw is not None else "2xx"]
    out = []
    for item in items:
        text = str(item).strip().lower()
        if not _EXPECT.fullmatch(text):
            raise NonRetryableActionError(f"expectStatus {item!r} is not a status (201) or a class (2xx)")
        out.append(text)
    return out


def _matches(status: int, expected: list[str]) -> bool:
    code = str(status)
    return any(e == code or (e.endswith("xx") and e[0] == code[0]) for e in expected)


def _safe_url(url: str) -> str:
    """The URL without user info and query (either may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _url_scrubber(url: str) -> Scrubber:
    """A password written into the URL (from run conf) is a secret like a connection's: requests
    sends it as ``Authorization: Basic``, and an error or a log may show it in any form."""
    parts = urlsplit(url)
    if not parts.password:
        return Scrubber()
    from urllib.parse import unquote

    password = unquote(parts.password)
    redaction.register(password, unquote(parts.username or ""))
    redaction.register(parts.password)
    return Scrubber([password, parts.password], login=unquote(parts.username or ""))


def idempotency_header(key_hex: str) -> str:
    """An RFC 8941 sf-string: the digest in double quotes (hex needs no escaping)."""
    return f'"{key_hex}"'


def _parse(response: Any) -> RequestResult:
    raw: bytes = response.content or b""
    truncated = len(raw) > MAX_BODY
    body: Any
    ctype = response.headers.get("Content-Type", "")
    if "json" in ctype.lower() and not truncated:
        try:
            body = json.loads(raw.decode(response.encoding or "utf-8") if raw else "null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
    else:
        body = raw[:MAX_BODY].decode(response.encoding or "utf-8", "replace")
    headers = {k: v for k, v in response.headers.items() if k.lower() not in DROPPED_HEADERS}
    result = RequestResult(
        status=response.status_code, ok=200 <= response.status_code < 300, headers=headers, body=body
    )
    if truncated:
        result.bodyTruncated = True
    return result


@dataclass(frozen=True)
class _Call:
    """One request as it is sent, whichever way it goes."""

    method: str
    headers: dict[str, str]
    query: dict[str, Any]
    data: Any
    json: Any
    timeout: float
    expected: list[str]


class HttpBackend(Backend):
    """Both backends: the local one serves only absolute URLs (there is no base URL to join)."""

    def request(self, params: RequestParams) -> RequestResult:
        import requests

        call = self._call(params)
        scrub = Scrubber()
        try:
            if params.url:
                if urlsplit(params.url).scheme not in ("http", "https"):
                    raise NonRetryableActionError("url must be http:// or https://")
                shown, scrub = _safe_url(params.url), _url_scrubber(params.url)
                response = requests.request(
                    call.method,
                    params.url,
                    params=call.query or None,
                    headers=call.headers,
                    json=call.json,
                    data=call.data,
                    timeout=call.timeout,
                )
            else:
                assert params.endpoint is not None  # _call checked that exactly one is given
                scrub = self.scrub
                shown, response = self._on_connection(params.endpoint, call)
        except ActionError:
            raise
        except (
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
        ):
            raise NonRetryableActionError("http: the URL is not valid") from None
        except requests.exceptions.InvalidHeader:
            raise NonRetryableActionError("http: a header is not valid") from None
        except (requests.RequestException, OSError) as exc:
            raise ActionError(f"http: {call.method} request failed: {type(exc).__name__}") from None
        except Exception as exc:
            raise scrub.error(exc, f"http: {call.method}", retryable=False) from None
        return _checked(response, call, shown, scrub)

    def _call(self, params: RequestParams) -> _Call:
        """The request the params describe, refused when they contradict each other."""
        if bool(params.url) == bool(params.endpoint):
            raise NonRetryableActionError(
                "give exactly one of 'url' (absolute) or 'endpoint' (with a connection)"
            )
        if params.json_ is not None and params.data is not None:
            raise NonRetryableActionError("give 'json' or 'data', not both")
        has_body = params.json_ is not None or params.data is not None
        method = params.method or ("POST" if has_body else "GET")
        headers = dict(params.headers or {})
        if method in KEYED_METHODS and not any(k.lower() == "idempotency-key" for k in headers):
            headers["Idempotency-Key"] = idempotency_header(key_digest(self.ctx))
        data = params.data
        if data is not None and not isinstance(data, dict):
            data = data if isinstance(data, str) else json.dumps(data)
        return _Call(
            method=method,
            headers=headers,
            query={str(k): v for k, v in (params.query or {}).items()},
            data=data,
            json=params.json_,
            timeout=params.timeout,
            expected=expected_statuses(params.expectStatus),
        )

    def _on_connection(self, endpoint: str, call: _Call) -> tuple[str, Any]:
        """Send to a path on the connection's base URL through ``HttpHook`` (its auth and headers):
        (the URL as shown in messages, the response)."""
        from airflow_provider_wfo.connectors.hooks.http import WfoHttpHook

        if self.resolved.is_local:
            raise NonRetryableActionError(
                f"'endpoint' needs an HTTP connection {self.ctx.conn_id!r} (conn_type http) with the base URL"
            )
        hook = WfoHttpHook(method=call.method, http_conn_id=self.resolved.conn_id)
        full = hook.url_from_endpoint(endpoint)
        if not hook.base_url or _origin(full) != _origin(hook.base_url):
            # A connection without a host would let the endpoint pick one, and the
            # connection's credentials would go wherever a definition or conf says.
            raise NonRetryableActionError(
                f"http: 'endpoint' must be a path on the base URL of connection "
                f"{self.resolved.conn_id!r} (its host); give the connection a host"
            )
        options = {"check_response": False, "timeout": call.timeout}
        if call.method == "GET":
            # HttpHook sends a GET's `data` as the query string
            response = hook.run(
                endpoint, data=call.query or None, headers=call.headers, extra_options=options, json=call.json
            )
        else:
            response = hook.run(
                endpoint,
                data=call.data,
                headers=call.headers,
                extra_options=options,
                params=call.query or None,
                json=call.json,
            )
        return _safe_url(full), response


def _checked(response: Any, call: _Call, shown: str, scrub: Scrubber) -> RequestResult:
    """The result when the status is one the step expects; else the error, retryable for 408, 429, 5xx."""
    result = _parse(response)
    if _matches(response.status_code, call.expected):
        return result
    snippet = scrub(response.text[:300]) if response.text else ""
    message = (
        f"http: {call.method} {shown} returned {response.status_code}, expected {'/'.join(call.expected)}"
    )
    if snippet:
        message += f": {snippet}"
    if is_retryable_status(response.status_code):
        raise ActionError(message)
    raise NonRetryableActionError(message)


_BACKEND = "airflow_provider_wfo.connectors.http:HttpBackend"

CONNECTOR = Connector(
    target="http",
    aliases=("integration",),
    service="HTTP",
    summary="Any HTTP API: the escape hatch. POST/PATCH carry an Idempotency-Key.",
    actions=(
        ActionSpec(
            "request",
            RequestParams,
            RequestResult,
            "Send one HTTP request.",
            rollback="define your own (e.g. a DELETE)",
        ),
    ),
    backends={"wfo_local": _BACKEND, "http": _BACKEND},
    doctor=None,
    real_backend="`HttpHook` / requests",
    local_default=False,
)
