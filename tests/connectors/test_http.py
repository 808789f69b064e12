"""http / integration ``request`` against a local stand-in (pytest-httpserver).

Follows the IETF draft "The Idempotency-Key HTTP Header Field"
(https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/): the client sends the
same key on every retry of one operation; the stand-in dedupes on it like a compliant server would.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn


def test_url_get_parses_json_and_sends_idempotency_key(httpserver: HTTPServer, call: Call) -> None:
    httpserver.expect_request(
        "/v1/items", method="GET", query_string={"q": "a b", "n": "2"}
    ).respond_with_response(
        Response(
            json.dumps({"items": [1, 2]}),
            content_type="application/json",
            headers={"Set-Cookie": "session=SECRETCOOKIE", "X-Req": "1"},
        )
    )
    res = call(
        "integration", "request", {"url": httpserver.url_for("/v1/items"), "query": {"q": "a b", "n": 2}}
    )
    assert res["status"] == 200 and res["ok"] is True and res["body"] == {"items": [1, 2]}
    assert res["headers"]["X-Req"] == "1" and "Set-Cookie" not in res["headers"]
    request, _ = httpserver.log[0]
    # GET is idempotent by itself: no key (draft-ietf-httpapi-idempotency-key-header is for POST/PATCH).
    assert "Idempotency-Key" not in request.headers


def test_endpoint_uses_connection_auth_and_retry_sends_same_key(
    httpserver: HTTPServer, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(
        monkeypatch,
        "orders_api",
        conn_type="http",
        host=httpserver.url_for("/api"),
        login="svc",
        password="pw-123456",
    )
    created: dict[str, dict] = {}

    def handler(request: Request) -> Response:
        assert request.method == "POST"
        assert request.authorization is not None and request.authorization.username == "svc"
        assert request.json == {"orderId": "ORD-1"}
        key = request.headers["Idempotency-Key"]
        # An RFC 8941 sf-string (3.3.3): DQUOTE *(unescaped / "\\" ( DQUOTE / "\\" )) DQUOTE, and a
        # digest, never the raw dag:run:step key.
        assert re.fullmatch(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"', key), key
        assert "dag" not in key and "run" not in key and len(key) == 34
        status = 200 if key in created else 201
        created.setdefault(key, {"id": f"o-{len(created) + 1}"})
        return Response(json.dumps(created[key]), status=status, content_type="application/json")

    httpserver.expect_request("/api/orders").respond_with_handler(handler)
    params = {"endpoint": "/orders", "method": "POST", "json": {"orderId": "ORD-1"}}
    first = call("http", "request", params, conn_id="orders_api")
    second = call("http", "request", params, conn_id="orders_api", attempt=2)
    assert first["status"] == 201 and second["status"] == 200
    assert first["body"] == second["body"] == {"id": "o-1"} and len(created) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, NonRetryableActionError),
        (401, NonRetryableActionError),
        (404, NonRetryableActionError),
        (408, ActionError),
        (429, ActionError),
        (500, ActionError),
        (503, ActionError),
    ],
)
def test_status_classification(httpserver: HTTPServer, call: Call, status: int, error: type) -> None:
    httpserver.expect_request("/x").respond_with_data("nope", status=status)
    with pytest.raises(error) as info:
        call("http", "request", {"url": httpserver.url_for("/x")})
    retryable = not isinstance(info.value, NonRetryableActionError)
    assert retryable == (status in (408, 429) or status >= 500)
    assert str(status) in str(info.value)


def test_expect_status(httpserver: HTTPServer, call: Call) -> None:
    httpserver.expect_request("/y").respond_with_data("plain text", status=200)
    with pytest.raises(NonRetryableActionError, match="expected 201"):
        call("http", "request", {"url": httpserver.url_for("/y"), "expectStatus": 201})
    res = call("http", "request", {"url": httpserver.url_for("/y"), "expectStatus": ["201", "2xx"]})
    assert res["body"] == "plain text"
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    assert call("http", "request", {"url": httpserver.url_for("/gone"), "expectStatus": 404})["status"] == 404


def test_network_error_is_retryable(call: Call) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ActionError) as info:
        call("http", "request", {"url": f"http://127.0.0.1:{port}/x?token=abc", "timeout": 2})
    assert not isinstance(info.value, NonRetryableActionError) and "abc" not in str(info.value)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"url": "ftp://x/y"},
        {"url": "http://a", "endpoint": "/b"},
        {"url": "http://a", "method": "BREW"},
        {"url": "http://a", "expectStatus": "2x"},
        {"url": "http://a", "json": {}, "data": "x"},
    ],
)
def test_bad_params_fail_fast(call: Call, params: dict) -> None:
    with pytest.raises(NonRetryableActionError):
        call("http", "request", params)


def test_endpoint_without_http_connection_fails_fast(
    call: Call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WFO_HTTP", raising=False)
    with pytest.raises(NonRetryableActionError, match="HTTP connection"):
        call("http", "request", {"endpoint": "/x"})
