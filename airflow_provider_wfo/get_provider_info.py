"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wfo",
        "name": "Workflow Orchestrator (wfo)",
        "description": "JSON workflow definitions become DAGs with saga (commit or roll back) semantics.",
        "versions": ["0.1.0"],
        "connection-types": [],
    }
