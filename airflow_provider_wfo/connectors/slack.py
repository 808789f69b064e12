"""slack: ``send_notification`` (channel, message, fields as in the seed, or blocks) -> {channel, ts}.

Real backends: ``SlackHook`` (connection type ``slack``, password = bot token; extra ``base_url``
for a stand-in) or ``SlackWebhookHook`` (``slackwebhook``). Idempotency with a token: the message
carries Slack message metadata ``{"event_type": "wfo_step", "event_payload": {"wfo_key": <digest>}}``
and a retry (attempt > 1) first reads the channel's recent history (``conversations.history`` with
``include_all_metadata``; needs the ``channels:history`` scope, ``channels:read`` to resolve a channel
name) and returns the earlier message when it is there. If that lookup is not allowed the message
is sent again (logged). Incoming webhooks cannot be searched: at-least-once, and ``ts`` is null.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlparse

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    key_digest,
    opt_str,
)
from airflow_provider_wfo.connectors.connections import ResolvedConnection, resolve, unsupported
from airflow_provider_wfo.connectors.local import outbox
from airflow_provider_wfo.connectors.local.workspace import Workspace

EVENT_TYPE = "wfo_step"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_RETRYABLE_SLACK_ERRORS = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _fields(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [{"title": str(k), "value": _value(v)} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise NonRetryableActionError("param 'fields' must be a list of {title, value}")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise NonRetryableActionError("each field must be an object {title, value}")
        title = item.get("title", item.get("name", ""))
        out.append({"title": str(title), "value": _value(item.get("value"))})
    return out


def build_blocks(message: str, fields: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The seed's message + fields as Block Kit: a section, then field sections (10 fields each)."""
    blocks: list[dict[str, Any]] = []
    if message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": message[:3000]}})
    for i in range(0, len(fields), 10):
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{f['title']}*\n{f['value']}"[:2000]}
                    for f in fields[i : i + 10]
                ],
            }
        )
    return blocks


def _fallback_text(message: str, fields: list[dict[str, str]]) -> str:
    lines = [message] if message else []
    lines += [f"{f['title']}: {f['value']}" for f in fields]
    return "\n".join(lines)


def _slack_error(exc: Exception, scrub: Scrubber) -> ActionError:
    response = getattr(exc, "response", None)
    status = int(getattr(response, "status_code", 0) or 0)
    code = ""
    try:
        code = str(response["error"]) if response is not None else ""
    except Exception:
        code = ""
    retryable = status >= 500 or status in (408, 429) or code in _RETRYABLE_SLACK_ERRORS
    message = f"slack: {code or type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    if not code and not status:
        # Network trouble (URLError, timeouts, connection resets): worth another attempt.
        retryable = True
        message += f": {scrub(exc)}"
    return ActionError(message) if retryable else NonRetryableActionError(message)


def _find_earlier(client: Any, channel: str, digest: str, ctx: ActionContext) -> dict[str, Any] | None:
    from slack_sdk.errors import SlackApiError

    try:
        channel_id = channel if _CHANNEL_ID.match(channel) else None
        if channel_id is None:
            wanted = channel.lstrip("#")
            listing = client.conversations_list(
                exclude_archived=True, limit=1000, types="public_channel,private_channel"
            )
            for conv in listing.get("channels", []) or []:
                if conv.get("name") == wanted:
                    channel_id = conv.get("id")
                    break
        if channel_id is None:
            return None
        history = client.conversations_history(channel=channel_id, limit=100, include_all_metadata=True)
        for msg in history.get("messages", []) or []:
            meta = msg.get("metadata") or {}
            if (
                meta.get("event_type") == EVENT_TYPE
                and (meta.get("event_payload") or {}).get("wfo_key") == digest
            ):
                return {"channel": channel_id, "ts": msg.get("ts"), "ok": True}
    except SlackApiError as exc:
        ctx.log.warning(
            "slack: cannot look for an earlier attempt's message (%s); sending", exc.response.get("error")
        )
    return None


def _send_api(
    resolved: ResolvedConnection, channel: str, text: str, blocks: list[dict[str, Any]], ctx: ActionContext
) -> dict[str, Any]:
    from airflow.providers.slack.hooks.slack import SlackHook
    from slack_sdk.errors import SlackApiError

    digest = key_digest(ctx)
    try:
        client = SlackHook(slack_conn_id=resolved.conn_id).client
        if ctx.attempt > 1:
            earlier = _find_earlier(client, channel, digest, ctx)
            if earlier is not None:
                ctx.log.info("slack: an earlier attempt already posted this message (ts %s)", earlier["ts"])
                return earlier
        response = client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks or None,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"wfo_key": digest}},
        )
    except SlackApiError as exc:
        raise _slack_error(exc, resolved.scrub) from None
    except Exception as exc:
        raise _slack_error(exc, resolved.scrub) from None
    return {"channel": response.get("channel", channel), "ts": response.get("ts"), "ok": True}


def _send_webhook(
    resolved: ResolvedConnection, channel: str | None, text: str, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    password = (resolved.conn.password or "") if resolved.conn is not None else ""
    scrub = Scrubber([*resolved.scrub.secrets, urlparse(password).path if "://" in password else password])
    try:
        SlackWebhookHook(slack_webhook_conn_id=resolved.conn_id).send(text=text, blocks=blocks or None)
    except Exception as exc:
        status = re.search(r"Status Code: (\d+)", str(exc))
        code = int(status.group(1)) if status else 0
        retryable = code == 0 or code >= 500 or code in (408, 429)
        message = f"slack webhook: {'HTTP ' + str(code) if code else type(exc).__name__ + ': ' + scrub(exc)}"
        raise (ActionError(message) if retryable else NonRetryableActionError(message)) from None
    return {"channel": channel, "ts": None, "ok": True}


@register_builtin("slack", "send_notification")
def send_notification(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    message = opt_str(params, "message", "text") or ""
    fields = _fields(params.get("fields"))
    raw_blocks = params.get("blocks")
    if raw_blocks is not None and not isinstance(raw_blocks, list):
        raise NonRetryableActionError("param 'blocks' must be a list of Block Kit blocks")
    blocks = list(raw_blocks) if raw_blocks else build_blocks(message, fields)
    if not message and not blocks:
        raise NonRetryableActionError("send_notification needs 'message' (or 'blocks')")
    text = _fallback_text(message, fields) or "notification"
    channel = opt_str(params, "channel") or opt_str(resolved.extra, "default_channel")
    if resolved.is_local:
        assert resolved.workspace is not None
        name = (channel or "general").lstrip("#")
        result = {"channel": name, "ts": f"{time.time():.6f}", "ok": True}
        record = {"text": text, "message": message, "fields": fields, "blocks": blocks}
        return outbox.send(Workspace(resolved.workspace), "slack", record, result, ctx)
    if resolved.conn_type == "slack":
        if not channel:
            raise NonRetryableActionError("param 'channel' is required (or extra default_channel)")
        return _send_api(resolved, channel, text, blocks, ctx)
    if resolved.conn_type == "slackwebhook":
        return _send_webhook(resolved, channel, text, blocks)
    raise unsupported(resolved, "slack", "slack or slackwebhook")
