"""The provider's connection types, from the connectors' declarations (plus the local workspace
type they share), written to ``airflow_provider_wfo/provider-info.json`` for ``get_provider_info``.

``python -m airflow_provider_wfo.connectors.provider_info`` regenerates the file.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def connection_types() -> list[dict[str, Any]]:
    from airflow_provider_wfo.connectors import catalog
    from airflow_provider_wfo.connectors.docs import builtin_connectors
    from airflow_provider_wfo.connectors.local import CONNECTION as LOCAL

    seen: dict[str, dict[str, Any]] = {LOCAL.conn_type: LOCAL.to_provider_info()}
    for connector in builtin_connectors(catalog.connectors()):
        for declared in connector.connection_types:
            seen.setdefault(declared.conn_type, declared.to_provider_info())
    return list(seen.values())


def text() -> str:
    return json.dumps({"connection-types": connection_types()}, indent=2, sort_keys=True) + "\n"


def main() -> int:
    from airflow_provider_wfo.get_provider_info import CONNECTION_TYPES_PATH

    new = text()
    if not CONNECTION_TYPES_PATH.exists() or CONNECTION_TYPES_PATH.read_text(encoding="utf-8") != new:
        CONNECTION_TYPES_PATH.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
