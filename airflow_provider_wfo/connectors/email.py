"""email (also target ``gmail``): ``send_email`` (to, subject, body, cc, bcc, html) via the SMTP provider.

Real backend: ``SmtpHook`` (connection type ``smtp``; host, port, login, password; extra
``from_email``, ``default_to``, ``disable_ssl``, ``disable_tls``...). Idempotency: SMTP cannot be
asked what it already accepted, so a message is sent at least once; every attempt of one step sends
the same ``Message-ID`` (derived from the step's key), which lets receiving systems drop a duplicate.
The local backend appends to ``<workspace>/email/outbox.jsonl`` once per key.
"""

from __future__ import annotations

import html
import re
import smtplib
import socket
from email.utils import parseaddr
from typing import Any

from pydantic import StrictBool, field_validator

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors._common import ActionError, NonRetryableActionError, Scrubber, key_digest
from airflow_provider_wfo.connectors.runtime import Backend, LocalBackend
from airflow_provider_wfo.connectors.spec import (
    LOCAL_CONN_TYPE,
    ActionSpec,
    Connector,
    Params,
    Result,
    Text,
    TextList,
    param,
)

_LINE_BREAK = re.compile(r"[\r\n\x00\x85\u2028\u2029]")
#: RFC 5322 dot-atom text, what the right-hand side of a Message-ID may be.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class SendEmailParams(Params):
    to: TextList | None = param(
        "to", description="Recipients (list or comma-separated; default: extra default_to)."
    )
    subject: Text | None = param(
        "subject", description="Subject (default: '<workflow>: <step>').", max_length=998
    )
    body: Text | None = param("body", "message", "text", description="Body (plain text unless html).")
    cc: TextList | None = param("cc", description="Copy recipients.")
    bcc: TextList | None = param("bcc", description="Blind copy recipients.")
    html: StrictBool = param("html", default=False, description="The body is HTML.")
    sender: Text | None = param(
        "from", description="From (default: the connection extra from_email).", max_length=998
    )

    @field_validator("to", "subject", "cc", "bcc", "sender")
    @classmethod
    def _one_header_line(cls, value: Any) -> Any:
        # A header value from run conf with a line break would add headers of its own
        # ("Hi\r\nBcc: someone@evil.example"): header injection (RFC 5322 2.2 allows no CR/LF).
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and _LINE_BREAK.search(text):
                raise ValueError("has a line break (CR, LF) or NUL: a header is one line")
        return value


class SendEmailResult(Result):
    messageId: str
    to: list[str]
    cc: list[str]
    subject: str


def message_id(ctx: ActionContext, sender: str | None) -> str:
    """``<wfo.<digest>@<domain>>``, the domain taken from the sender's address as ``email.utils``
    parses it (``Acme Ops <ops@acme.example>`` -> ``acme.example``), the same on every attempt."""
    address = parseaddr(sender or "")[1]
    domain = address.rpartition("@")[2].strip("[]") if "@" in address else ""
    if not _DOT_ATOM.fullmatch(domain):
        domain = "wfo.local"
    return f"<wfo.{key_digest(ctx)}@{domain}>"


def smtp_error(exc: Exception, scrub: Scrubber) -> ActionError:
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


class EmailBackend(Backend):
    def deliver(
        self, params: SendEmailParams, sender: str | None, result: SendEmailResult
    ) -> SendEmailResult:
        raise NotImplementedError

    def send_email(self, params: SendEmailParams) -> SendEmailResult:
        to = params.to or [t.strip() for t in str(self.extra.get("default_to") or "").split(",") if t.strip()]
        if not to:
            raise NonRetryableActionError("param 'to' is required (or the connection extra default_to)")
        sender = params.sender or (str(self.extra.get("from_email") or "") or None)
        subject = params.subject or f"{self.ctx.dag_id or 'wfo'}: {self.ctx.step_id or self.ctx.action}"
        result = SendEmailResult(
            messageId=message_id(self.ctx, sender), to=to, cc=params.cc or [], subject=subject
        )
        return self.deliver(params, sender, result)


class LocalEmail(EmailBackend, LocalBackend):
    def deliver(
        self, params: SendEmailParams, sender: str | None, result: SendEmailResult
    ) -> SendEmailResult:
        from airflow_provider_wfo.connectors.local import outbox

        record = {"from": sender, "bcc": params.bcc or [], "body": params.body or "", "html": params.html}
        return SendEmailResult.model_validate(
            outbox.send(self.ws, "email", record, result.to_json(), self.ctx)
        )


class SmtpEmail(EmailBackend):
    def deliver(
        self, params: SendEmailParams, sender: str | None, result: SendEmailResult
    ) -> SendEmailResult:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        body = params.body or ""
        content = body if params.html else "<pre>" + html.escape(body) + "</pre>"
        try:
            with SmtpHook(smtp_conn_id=self.resolved.conn_id) as hook:
                hook.send_email_smtp(
                    to=result.to,
                    subject=result.subject,
                    html_content=content,
                    from_email=sender,
                    cc=result.cc or None,
                    bcc=params.bcc or None,
                    custom_headers={"Message-ID": result.messageId},
                )
        except Exception as exc:
            raise smtp_error(exc, self.scrub) from None
        return result


_SMTP = "airflow_provider_wfo.connectors.email:SmtpEmail"

CONNECTOR = Connector(
    target="email",
    aliases=("gmail",),
    service="Email (SMTP)",
    summary="Sends a message; every attempt sends the same Message-ID, so receivers drop a duplicate.",
    actions=(ActionSpec("send_email", SendEmailParams, SendEmailResult, "Send an email.", rollback=None),),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.email:LocalEmail",
        "smtp": _SMTP,
        "email": _SMTP,
    },
    doctor="airflow_provider_wfo.connectors.doctor.services:check_smtp",
    real_backend="`SmtpHook`",
)
