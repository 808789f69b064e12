"""email (also target ``gmail``): ``send_email`` (to, subject, body, cc, bcc, html) via the SMTP provider.

Real backend: ``SmtpHook`` (connection type ``smtp``; host, port, login, password; extra
``from_email``, ``disable_ssl``, ``disable_tls``...). Idempotency: SMTP cannot be asked what it
already accepted, so a message is sent at least once; every attempt of one step sends the same
``Message-ID`` (derived from the step's key), which lets receiving systems drop a duplicate.
The local backend appends to ``<workspace>/email/outbox.jsonl`` once per key.
"""

from __future__ import annotations

import html
import smtplib
import socket
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    as_list,
    key_digest,
    opt_str,
    req_str,
)
from airflow_provider_wfo.connectors.connections import resolve, unsupported
from airflow_provider_wfo.connectors.local import outbox
from airflow_provider_wfo.connectors.local.workspace import Workspace


def _smtp_error(exc: Exception, scrub: Scrubber) -> ActionError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return NonRetryableActionError(f"email: recipients refused: {scrub(sorted(exc.recipients))}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return NonRetryableActionError(f"email: SMTP authentication failed ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPResponseException):
        # 4yz replies are transient by definition (RFC 5321 4.2.1), 5yz permanent.
        retryable = 400 <= exc.smtp_code < 500
        return scrub.error(exc, f"email: SMTP {exc.smtp_code}", retryable=retryable)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.timeout, OSError)):
        return scrub.error(exc, "email: SMTP connection", retryable=True)
    return scrub.error(exc, "email", retryable=False)


@register_builtin("email", "send_email")
def send_email(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    to = as_list(params.get("to"), "to")
    if not to:
        raise NonRetryableActionError("param 'to' is required")
    cc = as_list(params.get("cc"), "cc")
    bcc = as_list(params.get("bcc"), "bcc")
    subject = req_str(params, "subject")
    body = opt_str(params, "body", "message", "text") or ""
    is_html = bool(params.get("html", False))
    sender = opt_str(params, "from") or opt_str(resolved.extra, "from_email")
    domain = sender.rpartition("@")[2] if sender and "@" in sender else "wfo.local"
    message_id = f"<wfo.{key_digest(ctx)}@{domain}>"
    result = {"messageId": message_id, "to": to, "cc": cc, "subject": subject}
    if resolved.is_local:
        assert resolved.workspace is not None
        record = {"from": sender, "bcc": bcc, "body": body, "html": is_html}
        return outbox.send(Workspace(resolved.workspace), "email", record, result, ctx)
    if resolved.conn_type not in ("smtp", "email"):
        raise unsupported(resolved, "email", "smtp")
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    content = body if is_html else "<pre>" + html.escape(body) + "</pre>"
    try:
        with SmtpHook(smtp_conn_id=resolved.conn_id) as hook:
            hook.send_email_smtp(
                to=to,
                subject=subject,
                html_content=content,
                from_email=sender,
                cc=cc or None,
                bcc=bcc or None,
                custom_headers={"Message-ID": message_id},
            )
    except Exception as exc:
        raise _smtp_error(exc, resolved.scrub) from None
    return result
