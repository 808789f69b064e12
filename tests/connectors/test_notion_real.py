"""Notion backend (official notion-client) against a stand-in that checks requests per the Notion API.

Docs (API version 2025-09-03): https://developers.notion.com/reference/retrieve-a-database,
https://developers.notion.com/reference/retrieve-a-data-source,
https://developers.notion.com/reference/query-a-data-source, https://developers.notion.com/reference/post-page,
https://developers.notion.com/reference/patch-page (``in_trash``), and
https://developers.notion.com/reference/authentication (``Authorization: Bearer``, ``Notion-Version``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn
from .contracts.notion_spec import NotionRecorder

TOKEN = "ntn_SECRET_token_0042"
SCHEMA = {
    "Name": {"id": "title", "type": "title"},
    "Date": {"id": "d", "type": "date"},
    "Time": {"id": "t", "type": "rich_text"},
    "Duration": {"id": "u", "type": "number"},
    "Attendees": {"id": "a", "type": "multi_select"},
    "Type": {"id": "y", "type": "select"},
    "WFO Key": {"id": "k", "type": "rich_text"},
}


class FakeNotion:
    #: Checks every request against the pinned API version's shapes (set by the contract fixture).
    recorder: NotionRecorder | None = None

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.pages: dict[str, dict[str, Any]] = {}

    def __call__(self, request: Request) -> Response:
        if FakeNotion.recorder is not None:
            FakeNotion.recorder(request)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Notion-Version"] == "2025-09-03"
        path, method = request.path, request.method
        if method == "GET" and path == "/v1/databases/db-1":
            return self.json(
                {"object": "database", "id": "db-1", "data_sources": [{"id": "ds-1", "name": "M"}]}
            )
        if method == "GET" and path == "/v1/data_sources/ds-1":
            return self.json({"object": "data_source", "id": "ds-1", "properties": self.schema})
        if method == "POST" and path == "/v1/data_sources/ds-1/query":
            flt = request.json["filter"]
            assert flt["property"] == "WFO Key"
            hits = [
                p
                for p in self.pages.values()
                if not p["in_trash"]
                and p["properties"]["WFO Key"]["rich_text"][0]["text"]["content"]
                == flt["rich_text"]["equals"]
            ]
            return self.json({"object": "list", "results": hits, "has_more": False})
        if method == "POST" and path == "/v1/pages":
            body = request.json
            assert body["parent"] == {"type": "data_source_id", "data_source_id": "ds-1"}
            page_id = f"page-{len(self.pages) + 1}"
            page = {
                "object": "page",
                "id": page_id,
                "url": f"https://www.notion.so/{page_id}",
                "properties": body["properties"],
                "children": body.get("children", []),
                "in_trash": False,
            }
            self.pages[page_id] = page
            return self.json(page)
        if method == "GET" and (m := re.fullmatch(r"/v1/pages/([^/]+)", path)):
            page = self.pages.get(m.group(1))
            if page is None:
                return self.json(
                    {"object": "error", "status": 404, "code": "object_not_found", "message": "x"}, 404
                )
            return self.json(page)
        if method == "PATCH" and (m := re.fullmatch(r"/v1/pages/([^/]+)", path)):
            page = self.pages.get(m.group(1))
            if page is None:
                return self.json(
                    {"object": "error", "status": 404, "code": "object_not_found", "message": "x"}, 404
                )
            if page["in_trash"]:  # what the real API answers for a page already in the trash
                return self.json(
                    {
                        "object": "error",
                        "status": 400,
                        "code": "validation_error",
                        "message": "Can't edit block that is archived. "
                        "You must unarchive the block before editing.",
                    },
                    400,
                )
            assert request.json == {"in_trash": True}
            page["in_trash"] = True
            return self.json(page)
        return self.json({"object": "error", "status": 400, "code": "validation_error", "message": path}, 400)

    @staticmethod
    def json(value: Any, status: int = 200) -> Response:
        return Response(json.dumps(value), status=status, content_type="application/json")


@pytest.fixture(autouse=True)
def contract() -> Iterator[NotionRecorder]:
    recorder = NotionRecorder()
    FakeNotion.recorder = recorder
    yield recorder
    FakeNotion.recorder = None
    if recorder.calls:
        recorder.assert_clean()


def _setup(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, schema: dict[str, Any]) -> FakeNotion:
    fake = FakeNotion(schema)
    httpserver.expect_request(re.compile("/v1/.*")).respond_with_handler(fake)
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        host=httpserver.url_for("").rstrip("/"),
        password=TOKEN,
    )
    return fake


MEETING = {
    "databaseId": "db-1",
    "title": "Q1 Sprint Planning",
    "properties": {
        "Date": "2025-01-20",
        "Time": "10:00 AM",
        "Duration": "60 minutes",
        "Attendees": ["john@example.com", "jane@example.com"],
        "Type": "Meeting",
        "Room": "4.01",
    },
    "content": "1. Review Q4\n2. Set Q1 goals",
}


def test_create_page_typed_properties_idempotent_then_archive(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    fake = _setup(httpserver, monkeypatch, SCHEMA)
    page = call("notion", "create_task", MEETING)
    assert page["id"] == "page-1" and page["url"] == "https://www.notion.so/page-1"
    props = fake.pages["page-1"]["properties"]
    assert props["Name"] == {"title": [{"type": "text", "text": {"content": "Q1 Sprint Planning"}}]}
    assert props["Date"] == {"date": {"start": "2025-01-20"}}
    assert props["Duration"] == {"number": 60.0}
    assert props["Attendees"] == {
        "multi_select": [{"name": "john@example.com"}, {"name": "jane@example.com"}]
    }
    assert props["Type"] == {"select": {"name": "Meeting"}}
    texts = [b["paragraph"]["rich_text"][0]["text"]["content"] for b in fake.pages["page-1"]["children"]]
    assert texts == ["Room: 4.01", "1. Review Q4", "2. Set Q1 goals"]

    assert call("notion", "create_page", MEETING, attempt=2)["id"] == "page-1"
    assert len(fake.pages) == 1

    res = call("notion", "archive_page", {"pageId": "page-1"}, rollback=True)
    assert res == {"pageId": "page-1", "archived": True, "alreadyArchived": False}
    assert fake.pages["page-1"]["in_trash"] is True
    assert call("notion", "archive_page", {"pageId": "page-404"})["alreadyArchived"] is True


def test_without_key_property_still_creates(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    schema = {k: v for k, v in SCHEMA.items() if k != "WFO Key"}
    fake = _setup(httpserver, monkeypatch, schema)
    assert call("notion", "create_task", MEETING)["id"] == "page-1"
    assert "WFO Key" not in fake.pages["page-1"]["properties"]


def test_errors_classified(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    set_conn(
        monkeypatch,
        "wfo_notion",
        conn_type="wfo_notion",
        host=httpserver.url_for("").rstrip("/"),
        password=TOKEN,
    )
    err = {"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}
    httpserver.expect_request("/v1/databases/db-1").respond_with_json(err, status=401)
    with pytest.raises(NonRetryableActionError, match="401"):
        call("notion", "create_task", MEETING)
    httpserver.clear()
    err = {"object": "error", "status": 503, "code": "service_unavailable", "message": "x"}
    httpserver.expect_request("/v1/databases/db-1").respond_with_json(err, status=503)
    with pytest.raises(ActionError) as info:
        call("notion", "create_task", MEETING)
    assert not isinstance(info.value, NonRetryableActionError)


def test_archive_of_a_page_already_in_the_trash_is_done(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    fake = _setup(httpserver, monkeypatch, SCHEMA)
    page = call("notion", "create_task", MEETING)
    first = call("notion", "archive_page", {"pageId": page["id"]}, rollback=True)
    assert first["alreadyArchived"] is False and fake.pages[page["id"]]["in_trash"]
    # A retried undo meets 400 "Can't edit block that is archived": the page is read back, and it is done.
    again = call("notion", "archive_page", {"pageId": page["id"]}, rollback=True, attempt=2)
    assert again == {"pageId": page["id"], "archived": True, "alreadyArchived": True}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"Type": ["Meeting", "Call"]}, "takes one option, got 2"),
        ({"Type": "Meeting, Call"}, "has a comma"),
        ({"Date": "15/01/2025"}, "not an ISO 8601 date"),
        ({"Date": {"start": "2025-01-15", "finish": "x"}}, "a date object is"),
    ],
)
def test_values_notion_would_refuse_fail_at_once(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    call: Call,
    properties: dict[str, Any],
    message: str,
) -> None:
    fake = _setup(httpserver, monkeypatch, SCHEMA)
    with pytest.raises(NonRetryableActionError, match=message):
        call("notion", "create_task", {**MEETING, "properties": properties})
    assert fake.pages == {}


def test_one_item_list_for_select_and_iso_dates_normalised(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    fake = _setup(httpserver, monkeypatch, SCHEMA)
    call(
        "notion", "create_task", {**MEETING, "properties": {"Type": ["Meeting"], "Date": "2025-01-20T10:00Z"}}
    )
    props = next(iter(fake.pages.values()))["properties"]
    assert props["Type"] == {"select": {"name": "Meeting"}}
    assert props["Date"] == {"date": {"start": "2025-01-20T10:00:00+00:00"}}
