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
