"""Trello backend against a stand-in that checks requests as the Trello REST API documents them.

Docs: https://developer.atlassian.com/cloud/trello/rest/api-group-cards/ (POST /1/cards, DELETE
/1/cards/{id}), https://developer.atlassian.com/cloud/trello/rest/api-group-lists/ (GET
/1/lists/{id}/cards, GET /1/lists/{id}/board),
https://developer.atlassian.com/cloud/trello/rest/api-group-boards/ (GET /1/boards/{id}/labels),
https://developer.atlassian.com/cloud/trello/rest/api-group-labels/ (POST /1/labels),
and the authorization guide https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/
(key and token in an ``Authorization: OAuth oauth_consumer_key=..., oauth_token=...`` header).
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
from .contracts.trello_spec import TrelloRecorder

KEY, TOKEN = "trellokey0001", "trellotoken-SECRET-42"


class FakeTrello:
    def __init__(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}
        self.labels = [{"id": "lab-bug", "name": "bug", "color": "red"}]
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        assert auth == f'OAuth oauth_consumer_key="{KEY}", oauth_token="{TOKEN}"'
        assert "key" not in request.args and "token" not in request.args
        self.requests.append((request.method, request.path))
        path, method, q = request.path, request.method, request.args
        if method == "GET" and (m := re.fullmatch(r"/1/lists/([^/]+)/cards", path)):
            assert set(q["fields"].split(",")) >= {"id", "desc", "url"}
            return self.json([c for c in self.cards.values() if c["idList"] == m.group(1)])
        if method == "GET" and re.fullmatch(r"/1/lists/([^/]+)/board", path):
            return self.json({"id": "board-1"})
        if method == "GET" and path == "/1/boards/board-1/labels":
            return self.json(self.labels)
        if method == "POST" and path == "/1/labels":
            assert q["idBoard"] == "board-1" and q["name"] and q["color"]
            label = {"id": f"lab-{q['name']}", "name": q["name"], "color": q["color"]}
            self.labels.append(label)
            return self.json(label)
        if method == "POST" and path == "/1/cards":
            assert q["idList"] and q["name"]
            card_id = f"card{len(self.cards) + 1:04d}"
            card = {
                "id": card_id,
                "name": q["name"],
                "desc": q.get("desc", ""),
                "idList": q["idList"],
                "due": q.get("due"),
                "idLabels": q.get("idLabels", "").split(","),
                "url": f"https://trello.com/c/{card_id}/x",
                "shortUrl": f"https://trello.com/c/{card_id}",
            }
            self.cards[card_id] = card
            return self.json(card)
        if method == "DELETE" and (m := re.fullmatch(r"/1/cards/([^/]+)", path)):
            if self.cards.pop(m.group(1), None) is None:
                return Response("The requested resource was not found.", status=404)
            return self.json({"limits": {}})
        return Response("unexpected", status=400)

    @staticmethod
    def json(value: Any) -> Response:
        return Response(json.dumps(value), content_type="application/json")


@pytest.fixture
def contract() -> Iterator[TrelloRecorder]:
    """Every request, checked against Trello's REST reference (contracts/trello-rest.json): an
    extra sent as a header (HttpHook's habit: default_list_id) or a parameter the API lacks fails."""
    recorder = TrelloRecorder()
    yield recorder
    recorder.assert_clean()


@pytest.fixture
def trello(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, contract: TrelloRecorder) -> FakeTrello:
    fake = FakeTrello()

    def handler(request: Request) -> Response:
        contract(request)
        return fake(request)

    httpserver.expect_request(re.compile("/1/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_trello",
        conn_type="wfo_trello",
        host=httpserver.url_for("").rstrip("/"),
        login=KEY,
        password=TOKEN,
        extra={"default_list_id": "backlog", "timeout": 30},
    )
    return fake


def test_create_card_with_labels_idempotent_then_delete(trello: FakeTrello, call: Call) -> None:
    params = {
        "name": "[BUG] Login button",
        "description": "iOS users\n\n**Severity:** High",
        "listId": "backlog",
        "labels": ["High", "bug"],
        "due": "2025-01-31",
    }
    card = call("trello", "create_task", params)
    assert card["id"] == "card0001" and card["url"].startswith("https://trello.com/c/")
    assert card["labels"] == ["high", "bug"] and card["listId"] == "backlog"
    stored = trello.cards["card0001"]
    assert stored["idLabels"] == ["lab-high", "lab-bug"] and stored["due"] == "2025-01-31"
    assert stored["desc"].startswith("iOS users\n\n**Severity:** High") and "wfo-key: " in stored["desc"]

    again = call("trello", "create_card", params, attempt=2)
    assert again["id"] == card["id"] and len(trello.cards) == 1

    gone = call("trello", "delete_card", {"cardId": card["id"]}, rollback=True)
    assert gone["deleted"] is True and trello.cards == {}
    assert call("trello", "delete_card", {"cardId": card["id"]}, rollback=True)["alreadyDeleted"] is True


def test_errors_classified(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    set_conn(
        monkeypatch,
        "wfo_trello",
        conn_type="wfo_trello",
        host=httpserver.url_for("").rstrip("/"),
        login=KEY,
        password=TOKEN,
    )
    httpserver.expect_request("/1/lists/l1/cards").respond_with_data("invalid token", status=401)
    with pytest.raises(NonRetryableActionError, match="401"):
        call("trello", "create_task", {"name": "x", "listId": "l1"})
    httpserver.clear()
    httpserver.expect_request("/1/lists/l1/cards").respond_with_data("busy", status=429)
    with pytest.raises(ActionError) as info:
        call("trello", "create_task", {"name": "x", "listId": "l1"})
    assert not isinstance(info.value, NonRetryableActionError)
    with pytest.raises(NonRetryableActionError, match="listId"):
        call("trello", "create_task", {"name": "x"})
