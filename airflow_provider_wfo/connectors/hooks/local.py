"""WfoLocalHook: the local workspace backend's connection (type ``wfo_local``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_wfo.connectors.local import CONNECTION


class WfoLocalHook(BaseHook):
    conn_name_attr = "wfo_conn_id"
    default_conn_name = "wfo_local"
    conn_type = CONNECTION.conn_type
    hook_name = CONNECTION.hook_name

    def __init__(self, wfo_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.wfo_conn_id = wfo_conn_id

    def get_conn(self) -> Path:
        from airflow_provider_wfo.connectors.connections import workspace_from

        extra = self.get_connection(self.wfo_conn_id).extra_dejson or {}
        return workspace_from(extra.get("workspace"))

    def test_connection(self) -> tuple[bool, str]:
        from airflow_provider_wfo.connectors.local.workspace import Workspace

        try:
            ws = Workspace(self.get_conn())
        except OSError as exc:
            return False, f"workspace not usable: {exc}"
        return True, f"workspace {ws.root} is usable"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return CONNECTION.ui_field_behaviour()
