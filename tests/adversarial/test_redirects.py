"""Issue 12, case 2: connection credentials never follow a redirect to another origin.

``requests`` drops only ``Authorization`` when a redirect leaves the host; a connection's extra
headers (``X-Api-Key``) and cookies would follow a 302 anywhere. The connection's server redirects
to a second server (another origin: another host name and port), which records what it got.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from wfo_adversarial import call, set_conn

SECRET = "redirect-S3cret-key-4711"


@pytest.fixture
def elsewhere() -> Iterator[HTTPServer]:
    server = HTTPServer(host="localhost")
    server.start()
    yield server
    server.clear()
    server.stop()


def test_credentials_stay_on_their_origin(httpserver: HTTPServer, elsewhere: HTTPServer) -> None:
    target = elsewhere.url_for("/landing")
    httpserver.expect_request("/api/start").respond_with_response(
        Response(status=302, headers={"Location": target})
    )
    httpserver.expect_request("/api/same").respond_with_response(
        Response(status=302, headers={"Location": httpserver.url_for("/api/there")})
    )
    httpserver.expect_request("/api/there").respond_with_data("same origin")
    seen: list[dict[str, str]] = []

    def landing(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response("landed")

    elsewhere.expect_request("/landing").respond_with_handler(landing)
    name = set_conn(
        "redirecting_api",
        conn_type="http",
        host=httpserver.url_for("/api"),
        login="svc",
        password=SECRET,
        extra={"X-Api-Key": SECRET, "X-Tenant": "acme"},
    )
    try:
        result = call("http", "request", {"endpoint": "/start"}, conn_id="redirecting_api")
        same = call("http", "request", {"endpoint": "/same"}, conn_id="redirecting_api", key="k2")
    finally:
        del os.environ[name]
    assert result["status"] == 200 and result["body"] == "landed"
    assert len(seen) == 1
    sent = {k.lower(): v for k, v in seen[0].items()}
    assert "authorization" not in sent and "x-api-key" not in sent and "x-tenant" not in sent
    assert SECRET not in repr(seen)
    # On the same origin the connection's headers still go along.
    there = [r for r, _ in httpserver.log if r.path == "/api/there"]
    assert same["body"] == "same origin" and there[0].headers["X-Api-Key"] == SECRET


@pytest.mark.parametrize("endpoint", ["@{host}/landing", "//{host}/landing", "http://{host}/landing"])
def test_an_endpoint_cannot_send_the_connection_elsewhere(
    httpserver: HTTPServer, elsewhere: HTTPServer, endpoint: str
) -> None:
    """An endpoint (from a definition or from conf) is a path on the connection's host, whatever
    it looks like; a connection without a host refuses endpoints instead of letting them choose."""
    other = f"localhost:{elsewhere.port}"
    elsewhere.expect_request("/landing").respond_with_data("should not be reached")
    httpserver.expect_request(
        f"/api/{endpoint.format(host=other)}".replace("/api//", "/api//")
    ).respond_with_data("path")
    names = [
        set_conn(
            "hosted_api", conn_type="http", host=httpserver.url_for("/api"), login="svc", password=SECRET
        ),
        set_conn("hostless_api", conn_type="http", login="svc", password=SECRET),
    ]
    try:
        outcomes = [
            _call_or_error("hosted_api", endpoint.format(host=other)),
            _call_or_error("hostless_api", endpoint.format(host=other)),
        ]
    finally:
        for name in names:
            del os.environ[name]
    assert elsewhere.log == []  # the credentials went nowhere else
    assert isinstance(outcomes[1], str)  # refused: "must be a path on the base URL", or not a URL


def _call_or_error(conn_id: str, endpoint: str) -> object:
    from airflow_provider_wfo.actions.registry import ActionError

    try:
        return call(
            "http", "request", {"endpoint": endpoint, "expectStatus": ["2xx", "4xx"]}, conn_id=conn_id
        )
    except ActionError as exc:
        return str(exc)
