"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow calls this in every process at start-up, so it must not import the connectors: the
connection types are read from ``provider-info.json``, which is generated from the connectors'
declarations (``airflow_provider_wfo.connectors.provider_info``, run by ``scripts/build-readme``;
a test fails when the committed file drifts from the declarations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONNECTION_TYPES_PATH = Path(__file__).resolve().parent / "provider-info.json"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wfo",
        "name": "Workflow Orchestrator (wfo)",
        "description": "JSON workflow definitions become DAGs with saga (commit or roll back) semantics.",
        "versions": ["0.1.0"],
        "connection-types": json.loads(CONNECTION_TYPES_PATH.read_text(encoding="utf-8"))["connection-types"],
    }
