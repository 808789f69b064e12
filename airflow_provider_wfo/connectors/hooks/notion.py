"""NotionHook: an Airflow hook over the official ``notion-client``, built once per hook.

Connection type ``wfo_notion`` (declared in :mod:`airflow_provider_wfo.connectors.notion`):
password = integration token; host optional (the API base URL, default ``https://api.notion.com``;
set it for a stand-in); extra ``notion_version``, ``timeout_ms``, ``idempotency_property``
(default ``WFO Key``), ``default_database_id``. The client's own retry loop is off: retries are
Airflow's, and a create must not be repeated by a layer that does not look for its earlier page.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_wfo.connectors.notion import CONNECTION
from airflow_provider_wfo.redaction import Scrubber


class _Redact(logging.Filter):
    """notion-client logs the API's error messages; an API that echoes the token must not leak it,
    in any form (:mod:`airflow_provider_wfo.redaction`)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.scrub = Scrubber([secret])

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            record.msg = self.scrub(record.getMessage())
            record.args = None
        return True


def _client_logger(conn_id: str, secret: str) -> logging.Logger:
    logger = logging.getLogger(f"airflow_provider_wfo.notion.{conn_id}")
    for old in [f for f in logger.filters if isinstance(f, _Redact)]:
        logger.removeFilter(old)
    logger.addFilter(_Redact(secret))
    return logger


class NotionHook(BaseHook):
    conn_name_attr = "notion_conn_id"
    default_conn_name = "wfo_notion"
    conn_type = CONNECTION.conn_type
    hook_name = CONNECTION.hook_name

    def __init__(self, notion_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.notion_conn_id = notion_conn_id

    @cached_property
    def client(self) -> Any:
        from notion_client import Client

        conn = self.get_connection(self.notion_conn_id)
        extra = conn.extra_dejson or {}
        options: dict[str, Any] = {
            "auth": conn.password,
            "retry": False,
            # Its per-request warnings repeat what the raised error says (and may quote the API's message).
            "log_level": logging.ERROR,
            "logger": _client_logger(self.notion_conn_id, conn.password or ""),
        }
        if conn.host:
            options["base_url"] = conn.host.rstrip("/")
        if extra.get("notion_version"):
            options["notion_version"] = str(extra["notion_version"])
        options["timeout_ms"] = int(extra.get("timeout_ms", 60_000))
        return Client(**options)

    def get_conn(self) -> Any:
        return self.client

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return CONNECTION.ui_field_behaviour()
