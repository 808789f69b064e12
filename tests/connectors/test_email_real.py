"""email via Airflow's SMTP provider against a tiny SMTP sink (socketserver; RFC 5321 commands,
RFC 4954 AUTH PLAIN). Checks the envelope, the headers (Subject, To, Cc, Message-ID) and the body."""

from __future__ import annotations

import base64
import email
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn

PASSWORD = "smtp-SECRET-pass-42"


class Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages: list[dict[str, Any]] = []
        self.mail_reply = b"250 OK"


class SmtpHandler(socketserver.StreamRequestHandler):
    server: Sink

    def say(self, text: bytes) -> None:
        self.wfile.write(text + b"\r\n")

    def handle(self) -> None:
        self.say(b"220 sink ESMTP")
        msg: dict[str, Any] = {"rcpt": []}
        while line := self.rfile.readline():
            cmd = line.decode().rstrip("\r\n")
            up = cmd.upper()
            if up.startswith("EHLO"):
                self.say(b"250-sink\r\n250-AUTH PLAIN\r\n250 OK")
            elif up.startswith("HELO") or up in ("RSET", "NOOP"):
                self.say(b"250 OK")
            elif up.startswith("AUTH PLAIN"):
                _, user, password = base64.b64decode(cmd.split()[2]).split(b"\0")
                ok = user == b"mailer" and password == PASSWORD.encode()
                self.say(b"235 ok" if ok else b"535 5.7.8 Authentication credentials invalid")
            elif up.startswith("MAIL FROM:"):
                msg["from"] = cmd[10:].strip("<> ")
                self.say(self.server.mail_reply)
            elif up.startswith("RCPT TO:"):
                msg["rcpt"].append(cmd[8:].strip("<> "))
                self.say(b"250 OK")
            elif up == "DATA":
                self.say(b"354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                msg["data"] = data
                self.server.messages.append(msg)
                msg = {"rcpt": []}
                self.say(b"250 queued")
            elif up == "QUIT":
                self.say(b"221 bye")
                return
            else:
                self.say(b"502 unknown")


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    set_conn(
        monkeypatch,
        "wfo_email",
        conn_type="smtp",
        host="127.0.0.1",
        port=server.server_address[1],
        login="mailer",
        password=PASSWORD,
        extra={
            "from_email": "wfo@example.com",
            "disable_ssl": True,
            "disable_tls": True,
            "retry_limit": 1,
            "timeout": 5,
        },
    )
    yield server
    server.shutdown()
    server.server_close()


def test_send_email(sink: Sink, call: Call) -> None:
    res = call(
        "gmail",
        "send_email",
        {
            "to": "a@example.com, b@example.com",
            "cc": ["c@example.com"],
            "bcc": "d@example.com",
            "subject": "Q1 Sprint Planning",
            "body": "Agenda:\n1. <Review>",
        },
    )
    assert res["messageId"].startswith("<wfo.") and res["messageId"].endswith("@example.com>")
    sent = sink.messages[0]
    assert sent["from"] == "wfo@example.com"
    assert sorted(sent["rcpt"]) == ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]
    parsed = email.message_from_bytes(sent["data"])
    assert parsed["Subject"] == "Q1 Sprint Planning" and parsed["Message-ID"] == res["messageId"]
    assert "c@example.com" in parsed["Cc"] and parsed["Bcc"] is None
    body = next(p for p in parsed.walk() if p.get_content_type() == "text/html").get_payload(decode=True)
    assert b"&lt;Review&gt;" in body
    # A retry sends the same Message-ID (SMTP cannot be asked what it accepted; receivers dedupe on it).
    again = call(
        "email",
        "send_email",
        {"to": "a@example.com, b@example.com", "subject": "Q1 Sprint Planning", "body": "x"},
        attempt=2,
    )
    assert again["messageId"] == res["messageId"]
    assert email.message_from_bytes(sink.messages[1]["data"])["Message-ID"] == res["messageId"]


def test_smtp_errors(sink: Sink, call: Call, monkeypatch: pytest.MonkeyPatch) -> None:
    sink.mail_reply = b"451 4.3.0 try again later"
    with pytest.raises(ActionError) as info:
        call("email", "send_email", {"to": "a@example.com", "subject": "s", "body": "b"})
    assert not isinstance(info.value, NonRetryableActionError)
    sink.mail_reply = b"250 OK"
    set_conn(
        monkeypatch,
        "wfo_email",
        conn_type="smtp",
        host="127.0.0.1",
        port=sink.server_address[1],
        login="mailer",
        password="wrong-password",
        extra={"from_email": "wfo@example.com", "disable_ssl": True, "disable_tls": True, "retry_limit": 1},
    )
    with pytest.raises(NonRetryableActionError, match="authentication"):
        call("email", "send_email", {"to": "a@example.com", "subject": "s", "body": "b"})
