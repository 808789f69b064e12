"""slack: ``send_notification`` (channel, message, fields as in the seed, or blocks) -> {channel, ts}.

Real backends: ``SlackHook`` (connection type ``slack``, password = bot token; extra ``base_url``
for a stand-in) or ``SlackWebhookHook`` (``slackwebhook``). The Slack SDK's rate-limit handler
retries a 429 after its ``Retry-After`` within the attempt.

Idempotency with a token: the message carries Slack message metadata
``{"event_type": "wfo_step", "event_payload": {"wfo_key": <digest>}}``. A retry (attempt > 1) first
resolves the channel (``SlackHook.get_channel_id``: paginated, 429-aware; needs ``channels:read``,
and ``groups:read`` for private channels) and reads its history since the lookback
(``conversations.history``, paginated; ``channels:history`` / ``groups:history``), and returns
the earlier message when it is there. When that lookup is refused (a missing scope) the step fails
instead of posting a second message; a lookup that is only slow (rate limits) fails retryably,
so the next attempt looks again. Incoming webhooks cannot be searched: at-least-once, ``ts`` null.
"""

from __future__ import annotations

import re
import time
from typing import Any

from airflow_provider_wfo.connectors._common import ActionError, NonRetryableActionError, Scrubber, key_digest
from airflow_provider_wfo.connectors.runtime import Backend, LocalBackend
from airflow_provider_wfo.connectors.spec import (
    LOCAL_CONN_TYPE,
    ActionSpec,
    Connector,
    Params,
    Result,
    Text,
    param,
)

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
#: Slack's limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks a message,
#: 3000 characters a section text, 10 fields of 2000 characters a section.
MAX_BLOCKS = 50
DEFAULT_LOOKBACK_HOURS = 24
HISTORY_PAGES = 10


class SlackField(Params):
    title: Text = param("title", "name", default="")
    value: Any = None


class SendNotificationParams(Params):
    channel: Text | None = param(
        "channel",
        description="#name or channel id (default: the connection extra default_channel).",
        max_length=200,
    )
    message: Text | None = param("message", "text", description="Message text (mrkdwn).")
    fields: list[SlackField] | dict[str, Any] | None = param(
        "fields", description="[{title, value}] (or {title: value}); list values are joined with ', '."
    )
    blocks: list[dict[str, Any]] | None = param(
        "blocks",
        description="Block Kit blocks; replace the ones built from message and fields.",
        max_length=MAX_BLOCKS,
    )


class SendNotificationResult(Result):
    channel: str | None
    ts: str | None
    ok: bool


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    return str(value)


def fields_of(params: SendNotificationParams) -> list[dict[str, str]]:
    raw = params.fields
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [{"title": str(k), "value": _value(v)} for k, v in raw.items()]
    return [{"title": f.title, "value": _value(f.value)} for f in raw]


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
    if len(blocks) > MAX_BLOCKS:
        raise NonRetryableActionError(
            f"slack: a message holds at most {MAX_BLOCKS} blocks ({(MAX_BLOCKS - 1) * 10} fields)"
        )
    return blocks


def fallback_text(message: str, fields: list[dict[str, str]]) -> str:
    lines = [message] if message else []
    lines += [f"{f['title']}: {f['value']}" for f in fields]
    return "\n".join(lines)


def checked_blocks(blocks: list[dict[str, Any]]) -> None:
    """Blocks a step gives are checked with slack_sdk's own models before anything is sent."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    for i, raw in enumerate(blocks):
        block = Block.parse(raw)
        if block is None:
            raise NonRetryableActionError(
                f"slack: blocks[{i}] is not a Block Kit block (type {raw.get('type')!r})"
            )
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            raise NonRetryableActionError(f"slack: blocks[{i}]: {exc}") from None


class SlackBackend(Backend):
    def send(
        self, channel: str | None, text: str, blocks: list[dict[str, Any]], record: dict[str, Any]
    ) -> SendNotificationResult:
        raise NotImplementedError

    def send_notification(self, params: SendNotificationParams) -> SendNotificationResult:
        message = params.message or ""
        fields = fields_of(params)
        blocks = list(params.blocks) if params.blocks else build_blocks(message, fields)
        if not message and not blocks:
            raise NonRetryableActionError("send_notification needs 'message' (or 'blocks')")
        text = fallback_text(message, fields) or "notification"
        channel = params.channel or (str(self.extra.get("default_channel") or "") or None)
        record = {"text": text, "message": message, "fields": fields, "blocks": blocks}
        return self.send(channel, text, blocks, record)


class LocalSlack(SlackBackend, LocalBackend):
    def send(
        self, channel: str | None, text: str, blocks: list[dict[str, Any]], record: dict[str, Any]
    ) -> SendNotificationResult:
        from airflow_provider_wfo.connectors.local import outbox

        name = (channel or "general").lstrip("#")
        result = {"channel": name, "ts": f"{time.time():.6f}", "ok": True}
        return SendNotificationResult.model_validate(outbox.send(self.ws, "slack", record, result, self.ctx))


def slack_error(exc: Exception, scrub: Scrubber, what: str = "slack") -> ActionError:
    """An error from the Web API, classified by its structured response (status, ``error``)."""
    response = getattr(exc, "response", None)
    status = int(getattr(response, "status_code", 0) or 0)
    code = needed = ""
    try:
        code = str(response["error"]) if response is not None else ""
        needed = str(response.get("needed") or "") if response is not None else ""
    except Exception:
        code = ""
    retryable = status >= 500 or status in (408, 429) or code in _RETRYABLE_SLACK_ERRORS
    message = f"{what}: {code or type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    if needed:
        message += f"; add the scope {needed} to the Slack app and reinstall it"
    if not code and not status:
        # Network trouble (URLError, timeouts, connection resets): worth another attempt.
        retryable = True
        message += f": {scrub(exc)}"
    return ActionError(message) if retryable else NonRetryableActionError(message)


class SlackApi(SlackBackend):
    def hook(self) -> Any:
        from airflow.providers.slack.hooks.slack import SlackHook
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        return SlackHook(
            slack_conn_id=self.resolved.conn_id,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
        )

    def channel_id(self, hook: Any, channel: str) -> str:
        from slack_sdk.errors import SlackApiError

        if _CHANNEL_ID.match(channel):
            return channel
        try:
            return str(hook.get_channel_id(channel.lstrip("#")))
        except LookupError:
            raise NonRetryableActionError(
                f"slack: no channel {channel!r} the app can see "
                "(invite the app; a private channel needs groups:read)"
            ) from None
        except SlackApiError as exc:
            raise slack_error(
                exc, self.scrub, "slack: cannot look for an earlier attempt's message"
            ) from None
        except Exception as exc:  # AirflowException: conversations.list rate limited 5 times in a row
            raise ActionError(f"slack: resolving channel {channel!r} failed: {self.scrub(exc)}") from None

    def find_earlier(self, hook: Any, channel: str, digest: str) -> dict[str, Any] | None:
        from slack_sdk.errors import SlackApiError

        channel_id = self.channel_id(hook, channel)
        hours = float(self.extra.get("history_lookback_hours") or DEFAULT_LOOKBACK_HOURS)
        oldest = f"{time.time() - hours * 3600:.6f}"
        cursor = None
        try:
            for _ in range(HISTORY_PAGES):
                page = hook.client.conversations_history(
                    channel=channel_id, limit=200, include_all_metadata=True, oldest=oldest, cursor=cursor
                )
                for msg in page.get("messages", []) or []:
                    meta = msg.get("metadata") or {}
                    if (
                        meta.get("event_type") == EVENT_TYPE
                        and (meta.get("event_payload") or {}).get("wfo_key") == digest
                    ):
                        return {"channel": channel_id, "ts": msg.get("ts"), "ok": True}
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except SlackApiError as exc:
            raise slack_error(
                exc, self.scrub, "slack: cannot look for an earlier attempt's message"
            ) from None
        self.log.warning(
            "slack: read %d pages of history without finding an earlier post; sending", HISTORY_PAGES
        )
        return None

    def send(
        self, channel: str | None, text: str, blocks: list[dict[str, Any]], record: dict[str, Any]
    ) -> SendNotificationResult:
        from slack_sdk.errors import SlackApiError

        if not channel:
            raise NonRetryableActionError(
                "param 'channel' is required (or the connection extra default_channel)"
            )
        checked_blocks(blocks)
        digest = key_digest(self.ctx)
        try:
            hook = self.hook()
            if self.ctx.attempt > 1:
                earlier = self.find_earlier(hook, channel, digest)
                if earlier is not None:
                    self.log.info(
                        "slack: an earlier attempt already posted this message (ts %s)", earlier["ts"]
                    )
                    return SendNotificationResult.model_validate(earlier)
            response = hook.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks or None,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"wfo_key": digest}},
            )
        except ActionError:
            raise
        except SlackApiError as exc:
            raise slack_error(exc, self.scrub) from None
        except Exception as exc:
            raise slack_error(exc, self.scrub) from None
        return SendNotificationResult(
            channel=response.get("channel", channel), ts=response.get("ts"), ok=True
        )


class SlackWebhook(SlackBackend):
    def send(
        self, channel: str | None, text: str, blocks: list[dict[str, Any]], record: dict[str, Any]
    ) -> SendNotificationResult:
        from urllib.parse import urlparse

        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        checked_blocks(blocks)
        password = (self.resolved.conn.password or "") if self.resolved.conn is not None else ""
        scrub = Scrubber([*self.scrub.secrets, urlparse(password).path if "://" in password else password])
        hook = SlackWebhookHook(
            slack_webhook_conn_id=self.resolved.conn_id,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
        )
        try:
            # The SDK client answers with a WebhookResponse (status, body): no error text to parse.
            response = hook.client.send(text=text, blocks=blocks or None)
        except Exception as exc:  # transport: URLError, timeouts
            raise ActionError(f"slack webhook: {type(exc).__name__}: {scrub(exc)}") from None
        status = int(response.status_code)
        if status != 200:
            body = scrub(str(response.body or ""))[:200]
            message = f"slack webhook: HTTP {status}" + (f": {body}" if body else "")
            retryable = status >= 500 or status in (408, 429)
            raise ActionError(message) if retryable else NonRetryableActionError(message)
        return SendNotificationResult(channel=channel, ts=None, ok=True)


CONNECTOR = Connector(
    target="slack",
    service="Slack",
    summary="Posts a message (text, fields or Block Kit); "
    "a retry finds the earlier post instead of posting again.",
    actions=(
        ActionSpec(
            "send_notification",
            SendNotificationParams,
            SendNotificationResult,
            "Post a message to a channel.",
            rollback=None,
        ),
    ),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.slack:LocalSlack",
        "slack": "airflow_provider_wfo.connectors.slack:SlackApi",
        "slackwebhook": "airflow_provider_wfo.connectors.slack:SlackWebhook",
    },
    doctor="airflow_provider_wfo.connectors.doctor.services:check_slack",
    real_backend="`SlackHook` / `SlackWebhookHook`",
)
