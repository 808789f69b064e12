"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wfo",
        "name": "Workflow Orchestrator (wfo)",
        "description": "JSON workflow definitions become DAGs with saga (commit or roll back) semantics.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_wfo.connectors.hooks.local.WfoLocalHook",
                "hook-name": "wfo local workspace",
                "connection-type": "wfo_local",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "login", "password", "port"],
                    "relabeling": {},
                    "placeholders": {},
                },
                "conn-fields": {
                    "workspace": {
                        "label": "Workspace folder",
                        "description": "Absolute path; every local backend keeps its state under it.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "allowed_paths": {
                        "label": "Allowed input folders",
                        "description": "Folders (os.pathsep-separated) drive file_document may read "
                        "filePath from, besides <workspace>/inbox.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            },
            {
                "hook-class-name": "airflow_provider_wfo.connectors.hooks.trello.TrelloHook",
                "hook-name": "Trello (wfo)",
                "connection-type": "wfo_trello",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "login": "API key",
                        "password": "Token",
                        "host": "API base URL (optional)",
                    },
                    "placeholders": {"host": "https://api.trello.com"},
                },
                "conn-fields": {
                    "default_list_id": {
                        "label": "Default list id",
                        "description": "Used when a step gives no listId.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "timeout": {
                        "label": "Timeout (s)",
                        "schema": {"type": ["number", "null"], "default": 30},
                    },
                },
            },
            {
                "hook-class-name": "airflow_provider_wfo.connectors.hooks.notion.NotionHook",
                "hook-name": "Notion (wfo)",
                "connection-type": "wfo_notion",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"password": "Integration token", "host": "API base URL (optional)"},
                    "placeholders": {"host": "https://api.notion.com"},
                },
                "conn-fields": {
                    "default_database_id": {
                        "label": "Default database id",
                        "description": "Used when a step gives no databaseId.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "idempotency_property": {
                        "label": "Idempotency property",
                        "description": "A rich_text property of the database that stores the step key "
                        "digest, so a retried step finds its page (default 'WFO Key').",
                        "schema": {"type": ["string", "null"], "default": "WFO Key"},
                    },
                    "notion_version": {"label": "Notion-Version", "schema": {"type": ["string", "null"]}},
                    "timeout_ms": {
                        "label": "Timeout (ms)",
                        "schema": {"type": ["integer", "null"], "default": 60000},
                    },
                },
            },
        ],
    }
