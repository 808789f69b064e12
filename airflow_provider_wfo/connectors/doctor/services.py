"""Slack, Notion, Trello and SMTP checks."""

from __future__ import annotations

from typing import Any

from airflow_provider_wfo.connectors.connections import ResolvedConnection
from airflow_provider_wfo.connectors.doctor import Finding, Probe, missing, ok

#: Scope -> (why, needed). chat:write posts; the others let a retry find an earlier post
#: instead of failing (the connector never posts twice when it cannot look).
SLACK_SCOPES: dict[str, tuple[str, bool]] = {
    "chat:write": ("post messages (send_notification)", True),
    "channels:read": ("resolve a public channel name on a retry", False),
    "groups:read": ("resolve a private channel name on a retry", False),
    "channels:history": ("find an earlier attempt's post in a public channel", False),
    "groups:history": ("find an earlier attempt's post in a private channel", False),
}


def check_slack(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    if resolved.conn_type == "slackwebhook":
        return [
            ok("incoming webhook: nothing can be read without posting; not checked"),
            missing(
                "a webhook cannot find an earlier post: a retried step may post twice",
                "use a bot token connection (conn_type slack) for at-most-once posts",
                needed=False,
            ),
        ]
    from airflow.providers.slack.hooks.slack import SlackHook
    from slack_sdk.errors import SlackApiError

    try:
        response = SlackHook(slack_conn_id=resolved.conn_id).client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error") if exc.response is not None else "?"
        return [
            missing(f"auth.test refused: {code}", "check the bot token (xoxb-...) in the connection password")
        ]
    except Exception as exc:
        return [missing(f"auth.test failed: {type(exc).__name__}", "check the connection's host / base_url")]
    findings = [ok(f"authenticated as {response.get('user')} in {response.get('team')} (auth.test)")]
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    granted = {s.strip() for s in str(raw[0] if isinstance(raw, list) else raw or "").split(",") if s.strip()}
    if not granted:
        return [*findings, missing("Slack sent no x-oauth-scopes header: scopes unknown", "", needed=False)]
    for scope, (why, needed) in SLACK_SCOPES.items():
        if scope in granted:
            findings.append(ok(f"scope {scope}: {why}"))
        else:
            findings.append(
                missing(
                    f"scope {scope} missing: cannot {why}",
                    f"add {scope} to the Slack app, reinstall it",
                    needed=needed,
                )
            )
    return findings


def check_notion(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    from airflow_provider_wfo.connectors.hooks.notion import NotionHook
    from airflow_provider_wfo.connectors.notion import DEFAULT_KEY_PROPERTY

    client = NotionHook(notion_conn_id=resolved.conn_id).client

    def status(exc: Exception) -> Any:
        return getattr(exc, "status", None) or getattr(exc, "code", type(exc).__name__)

    try:
        me = client.users.me()
    except Exception as exc:
        return [
            missing(
                f"users.me refused ({status(exc)})", "check the integration token in the connection password"
            )
        ]
    findings = [ok(f"authenticated as integration {me.get('name') or me.get('id')!r} (users.me)")]
    database_id = probe.database_id or str(resolved.extra.get("default_database_id") or "") or None
    if not database_id:
        findings.append(
            missing(
                "no database to check",
                "set the extra default_database_id or pass --database-id",
                needed=False,
            )
        )
        return findings
    try:
        database = client.databases.retrieve(database_id=database_id)
        sources = database.get("data_sources") or []
        schema = client.data_sources.retrieve(data_source_id=sources[0]["id"]) if sources else {}
    except Exception as exc:
        return [
            *findings,
            missing(
                f"database {database_id} not readable ({status(exc)})",
                "share the database with the integration (database menu -> Connections -> add it)",
            ),
        ]
    findings.append(ok(f"database {database_id} readable"))
    props = {name: spec.get("type") for name, spec in (schema.get("properties") or {}).items()}
    key = str(resolved.extra.get("idempotency_property") or DEFAULT_KEY_PROPERTY)
    if props.get(key) == "rich_text":
        findings.append(ok(f"property {key!r} (Text) present: a retry finds its earlier page"))
    else:
        findings.append(
            missing(
                f"property {key!r} missing{' (it is ' + str(props[key]) + ')' if key in props else ''}: "
                "a retried step may create a second page",
                f"add a Text property named {key!r} to the database",
            )
        )
    if "title" not in props.values():
        findings.append(missing("the database has no title property", "add a Title property"))
    return findings


def check_trello(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    import requests

    from airflow_provider_wfo.connectors.hooks.trello import TrelloHook

    def get(endpoint: str, fields: str) -> Any:
        hook = TrelloHook(trello_conn_id=resolved.conn_id, method="GET")
        return hook.run(
            endpoint, data={"fields": fields}, extra_options={"check_response": False, "timeout": 30}
        )

    try:
        me = get("/1/members/me", "username")
    except requests.RequestException as exc:
        return [missing(f"cannot reach Trello: {type(exc).__name__}", "check the connection host")]
    if me.status_code != 200:
        return [
            missing(
                f"members/me refused (HTTP {me.status_code})",
                "check the API key (login) and token (password)",
            )
        ]
    findings = [ok(f"authenticated as {me.json().get('username')!r} (members/me)")]
    list_id = str(resolved.extra.get("default_list_id") or "")
    if list_id:
        found = get(f"/1/lists/{list_id}", "name,closed")
        if found.status_code == 200 and not found.json().get("closed"):
            findings.append(ok(f"default list {found.json().get('name')!r} open"))
        else:
            findings.append(
                missing(
                    f"default list {list_id} not usable (HTTP {found.status_code})", "fix default_list_id"
                )
            )
    return findings


def check_smtp(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    try:
        with SmtpHook(smtp_conn_id=resolved.conn_id) as hook:
            client = getattr(hook, "_smtp_client", None)  # set by __enter__ after EHLO and login
            code, _ = client.ehlo() if client is not None else (0, b"")
    except smtplib.SMTPAuthenticationError as exc:
        return [
            ok("SMTP server answers"),
            missing(f"login refused ({exc.smtp_code})", "check login and password"),
        ]
    except (OSError, smtplib.SMTPException) as exc:
        return [
            missing(
                f"cannot talk to the SMTP server: {type(exc).__name__}", "check host, port and TLS settings"
            )
        ]
    conn = resolved.conn
    findings = [ok(f"EHLO answered {code}")]
    findings.append(
        ok("login accepted") if conn is not None and conn.login else ok("no login configured (open relay)")
    )
    if not resolved.extra.get("from_email"):
        findings.append(
            missing("no from_email extra", "set from_email, or give 'from' in every step", needed=False)
        )
    return findings
