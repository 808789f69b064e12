"""Slack backends (SlackHook, SlackWebhookHook) against a stand-in checking the Web API as documented.

Docs: https://api.slack.com/methods/chat.postMessage (Bearer token, JSON body with channel, text,
blocks, metadata), https://api.slack.com/metadata/using (message metadata event_type/event_payload),
https://api.slack.com/methods/conversations.history (include_all_metadata),
https://api.slack.com/methods/conversations.list, https://api.slack.com/messaging/webhooks
(incoming webhooks: POST JSON, plain "ok" reply).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn
from .contracts.slack_spec import SlackRecorder

TOKEN = "xoxb-SECRET-slack-token-42"


class FakeSlack:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        method = request.path.rsplit("/", 1)[-1]
        args = {**request.args, **request.form}
        if method == "chat.postMessage":
            body = request.json
            assert body["channel"] and body["text"]
            ts = f"1700000000.{len(self.messages) + 1:06d}"
            self.messages.append({**body, "ts": ts})
            return self.json(
                {"ok": True, "channel": "C0ORDERS01", "ts": ts, "message": {"text": body["text"]}}
            )
        if method == "conversations.list":
            # Two pages: SlackHook.get_channel_id follows the cursor.
            if not args.get("cursor"):
                return self.json(
                    {
                        "ok": True,
                        "channels": [{"id": "C0OTHER001", "name": "other"}],
                        "response_metadata": {"next_cursor": "page2"},
                    }
                )
            return self.json({"ok": True, "channels": [{"id": "C0ORDERS01", "name": "orders"}]})
        if method == "conversations.history":
            assert args["channel"] == "C0ORDERS01" and args["include_all_metadata"] in ("1", "true", "True")
            msgs = [
                {"type": "message", "ts": m["ts"], "text": m["text"], "metadata": m.get("metadata")}
                for m in reversed(self.messages)
            ]
            return self.json({"ok": True, "messages": msgs})
        return self.json({"ok": False, "error": "unknown_method"})

    @staticmethod
    def json(value: Any) -> Response:
        return Response(json.dumps(value), content_type="application/json")


@pytest.fixture
def contract() -> Iterator[SlackRecorder]:
    """Every Web API call, checked with slack_sdk's method signatures and Block Kit models."""
    recorder = SlackRecorder()
    yield recorder
    recorder.assert_clean()


@pytest.fixture
def slack(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, contract: SlackRecorder) -> FakeSlack:
    fake = FakeSlack()

    def handler(request: Request) -> Response:
        contract(request)
        return fake(request)

    httpserver.expect_request(__import__("re").compile("/api/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_slack",
        conn_type="slack",
        password=TOKEN,
        extra={"base_url": httpserver.url_for("/api/")},
    )
    return fake


PARAMS = {
    "channel": "orders",
    "message": "Order ORD-1 created",
    "fields": [{"title": "File", "value": "https://drive.example/x"}, {"title": "Amount", "value": 1500}],
}


def test_post_message_with_fields_and_metadata(slack: FakeSlack, call: Call) -> None:
    res = call("slack", "send_notification", PARAMS)
    assert res == {"channel": "C0ORDERS01", "ts": "1700000000.000001", "ok": True}
    sent = slack.messages[0]
    assert sent["channel"] == "orders"
    assert sent["text"] == "Order ORD-1 created\nFile: https://drive.example/x\nAmount: 1500"
    assert sent["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": "Order ORD-1 created"}}
    assert [f["text"] for f in sent["blocks"][1]["fields"]] == [
        "*File*\nhttps://drive.example/x",
        "*Amount*\n1500",
    ]
    assert (
        sent["metadata"]["event_type"] == "wfo_step"
        and len(sent["metadata"]["event_payload"]["wfo_key"]) == 32
    )


def test_retry_finds_earlier_message(slack: FakeSlack, call: Call) -> None:
    first = call("slack", "send_notification", PARAMS)
    second = call("slack", "send_notification", PARAMS, attempt=2)
    assert second["ts"] == first["ts"] and len(slack.messages) == 1
    other = call("slack", "send_notification", PARAMS, key="dag:run2:step", attempt=2)
    assert other["ts"] != first["ts"] and len(slack.messages) == 2


def test_api_errors_classified(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    set_conn(
        monkeypatch,
        "wfo_slack",
        conn_type="slack",
        password=TOKEN,
        extra={"base_url": httpserver.url_for("/api/")},
    )
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "channel_not_found"}
    )
    with pytest.raises(NonRetryableActionError, match="channel_not_found"):
        call("slack", "send_notification", PARAMS)
    httpserver.clear()
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "fatal_error"}, status=500
    )
    with pytest.raises(ActionError) as info:
        call("slack", "send_notification", PARAMS)
    assert not isinstance(info.value, NonRetryableActionError)


def test_webhook(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    hook_path = "/services/T000/B000/XXXXWEBHOOKSECRET"
    set_conn(monkeypatch, "wfo_slack", conn_type="slackwebhook", password=httpserver.url_for(hook_path))
    got: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        got.append(request.json)
        return Response("ok")

    httpserver.expect_request(hook_path, method="POST").respond_with_handler(handler)
    res = call("slack", "send_notification", PARAMS)
    assert res == {"channel": "orders", "ts": None, "ok": True}
    assert got[0]["text"].startswith("Order ORD-1 created") and got[0]["blocks"][1]["fields"]
    httpserver.clear()
    httpserver.expect_request(hook_path).respond_with_data("no_service", status=404)
    with pytest.raises(NonRetryableActionError) as info:
        call("slack", "send_notification", PARAMS)
    assert "WEBHOOKSECRET" not in str(info.value)
    assert "HTTP 404: no_service" in str(info.value)  # the SDK's WebhookResponse, not exception text
    httpserver.clear()
    httpserver.expect_request(hook_path).respond_with_data("service_unavailable", status=503)
    with pytest.raises(ActionError) as retry:
        call("slack", "send_notification", PARAMS)
    assert not isinstance(retry.value, NonRetryableActionError)


def test_retry_without_history_scope_fails_instead_of_posting_twice(
    slack: FakeSlack, httpserver: HTTPServer, call: Call
) -> None:
    call("slack", "send_notification", PARAMS)
    httpserver.clear()
    fake = slack

    def handler(request: Request) -> Response:
        if request.path.endswith("conversations.list"):
            return FakeSlack.json(
                {"ok": False, "error": "missing_scope", "needed": "groups:read", "provided": "chat:write"}
            )
        return fake(request)

    httpserver.expect_request(__import__("re").compile("/api/.*")).respond_with_handler(handler)
    with pytest.raises(NonRetryableActionError, match="groups:read"):
        call("slack", "send_notification", PARAMS, attempt=2)
    assert len(slack.messages) == 1


def test_channel_lookup_waits_out_a_rate_limit(slack: FakeSlack, httpserver: HTTPServer, call: Call) -> None:
    first = call("slack", "send_notification", PARAMS)
    httpserver.clear()
    limited = {"n": 0}

    def handler(request: Request) -> Response:
        if request.path.endswith("conversations.list") and limited["n"] == 0:
            limited["n"] += 1
            return Response(
                json.dumps({"ok": False, "error": "ratelimited"}),
                status=429,
                headers={"Retry-After": "0"},
                content_type="application/json",
            )
        return slack(request)

    httpserver.expect_request(__import__("re").compile("/api/.*")).respond_with_handler(handler)
    again = call("slack", "send_notification", PARAMS, attempt=2)
    assert again["ts"] == first["ts"] and len(slack.messages) == 1 and limited["n"] == 1
