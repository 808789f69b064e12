"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

The connection types come from the connectors' declarations (plus the local workspace type they
share), so a connector that registers a type needs no edit here.
"""

from __future__ import annotations

from typing import Any


def connection_types() -> list[dict[str, Any]]:
    from airflow_provider_wfo.connectors import catalog
    from airflow_provider_wfo.connectors.local import CONNECTION as LOCAL

    seen: dict[str, dict[str, Any]] = {LOCAL.conn_type: LOCAL.to_provider_info()}
    for connector in catalog.connectors():
        for declared in connector.connection_types:
            seen.setdefault(declared.conn_type, declared.to_provider_info())
    return list(seen.values())


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wfo",
        "name": "Workflow Orchestrator (wfo)",
        "description": "JSON workflow definitions become DAGs with saga (commit or roll back) semantics.",
        "versions": ["0.1.0"],
        "connection-types": connection_types(),
    }
