"""http (also target ``integration``): action ``request``, the escape hatch for any HTTP API.

Params: ``method`` (default GET, or POST when ``json``/``data`` is given), ``url`` (absolute, sent
with no connection credentials) or ``endpoint`` (relative to the connection's base URL: the
default ``wfo_http`` or the step's ``connId``, through Airflow's ``HttpHook``, so auth and headers
come from the connection), ``headers``, ``query``, ``json``, ``data``, ``expectStatus`` (an int,
``"2xx"``-style class, or a list of them; default ``2xx``), ``timeout`` (seconds, default 60).

Result: ``{status, ok, headers, body}``; ``body`` is parsed when the response is JSON, text
otherwise (cut at 1 MB). ``Set-Cookie`` is not returned. Every attempt sends the step's key as the
``Idempotency-Key`` header, so an API that honours it performs the call once. An unexpected status:
408, 429 and 5xx are retryable, anything else (other 4xx, 3xx) fails at once; network errors retry.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    is_retryable_status,
    key_digest,
    opt_str,
)
from airflow_provider_wfo.connectors.connections import resolve

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_BODY = 1024 * 1024
DROPPED_HEADERS = {"set-cookie", "set-cookie2"}


def _expect(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw if raw is not None else "2xx"]
    out = []
    for item in items:
        text = str(item).strip().lower()
        if not (len(text) == 3 and (text.isdigit() or (text[0].isdigit() and text[1:] == "xx"))):
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


def _dict(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise NonRetryableActionError(f"param {name!r} must be an object")
    return value


def _idempotency_value(ctx: ActionContext) -> str:
    key = ctx.idempotency_key
    if key.isascii() and key.isprintable() and len(key) <= 255:
        return key
    return key_digest(ctx, 64)


def _parse(response: Any) -> dict[str, Any]:
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
    result = {
        "status": response.status_code,
        "ok": 200 <= response.status_code < 300,
        "headers": headers,
        "body": body,
    }
    if truncated:
        result["bodyTruncated"] = True
    return result


@register_builtin("http", "request")
def request(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    import requests

    url = opt_str(params, "url")
    endpoint = opt_str(params, "endpoint")
    if bool(url) == bool(endpoint):
        raise NonRetryableActionError(
            "give exactly one of 'url' (absolute) or 'endpoint' (with a connection)"
        )
    payload_json = params.get("json")
    data = params.get("data")
    if payload_json is not None and data is not None:
        raise NonRetryableActionError("give 'json' or 'data', not both")
    method = (
        opt_str(params, "method") or ("POST" if payload_json is not None or data is not None else "GET")
    ).upper()
    if method not in METHODS:
        raise NonRetryableActionError(f"method {method!r} is not one of {', '.join(METHODS)}")
    headers = {str(k): str(v) for k, v in _dict(params, "headers").items()}
    if not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = _idempotency_value(ctx)
    query = {str(k): v for k, v in _dict(params, "query").items()}
    expected = _expect(params.get("expectStatus"))
    timeout = float(params.get("timeout", 60))
    if data is not None and not isinstance(data, dict):
        data = data if isinstance(data, str) else json.dumps(data)

    scrub = Scrubber()
    try:
        if url:
            if urlsplit(url).scheme not in ("http", "https"):
                raise NonRetryableActionError("url must be http:// or https://")
            shown = _safe_url(url)
            response = requests.request(
                method,
                url,
                params=query or None,
                headers=headers,
                json=payload_json,
                data=data,
                timeout=timeout,
            )
        else:
            from airflow.providers.http.hooks.http import HttpHook

            resolved = resolve(ctx)
            scrub = resolved.scrub
            if resolved.is_local:
                raise NonRetryableActionError(
                    f"'endpoint' needs an HTTP connection {ctx.conn_id!r} (conn_type http) with the base URL"
                )
            hook = HttpHook(method=method, http_conn_id=resolved.conn_id)
            assert endpoint is not None
            shown = _safe_url(hook.url_from_endpoint(endpoint))
            options = {"check_response": False, "timeout": timeout}
            kwargs: dict[str, Any] = {"json": payload_json}
            if method == "GET":
                response = hook.run(
                    endpoint, data=query or None, headers=headers, extra_options=options, **kwargs
                )
            else:
                response = hook.run(
                    endpoint,
                    data=data,
                    headers=headers,
                    extra_options=options,
                    params=query or None,
                    **kwargs,
                )
    except ActionError:
        raise
    except (
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
    ):
        raise NonRetryableActionError("http: the URL is not valid") from None
    except (requests.RequestException, OSError) as exc:
        raise ActionError(f"http: {method} request failed: {type(exc).__name__}") from None
    except Exception as exc:
        raise scrub.error(exc, f"http: {method}", retryable=False) from None

    result = _parse(response)
    if _matches(response.status_code, expected):
        return result
    snippet = scrub(response.text[:300]) if response.text else ""
    message = f"http: {method} {shown} returned {response.status_code}, expected {'/'.join(expected)}"
    if snippet:
        message += f": {snippet}"
    if is_retryable_status(response.status_code):
        raise ActionError(message)
    raise NonRetryableActionError(message)
