"""The connection types the provider registers (Airflow's ProvidersManager reads these; checked by
hand with ``ProvidersManager().hooks`` -- too slow to run here)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from airflow_provider_wfo.get_provider_info import get_provider_info


def test_connection_types_point_at_hooks_with_matching_conn_type() -> None:
    types = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
    assert set(types) == {"wfo_local", "wfo_trello", "wfo_notion"}
    for conn_type, entry in types.items():
        module, _, name = entry["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert hook.conn_type == conn_type
        assert entry["conn-fields"], conn_type
        for field in entry["conn-fields"].values():
            assert field["label"] and "type" in field["schema"]
    assert "workspace" in types["wfo_local"]["conn-fields"]


def test_local_hook_resolves_relative_workspace_under_airflow_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_wfo.connectors.hooks.local import WfoLocalHook

    from .conftest import set_conn

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    set_conn(monkeypatch, "wfo_local", conn_type="wfo_local", extra={"workspace": "ws-rel"})
    hook = WfoLocalHook()
    assert hook.get_conn() == tmp_path / "ws-rel"
    assert hook.test_connection()[0] is True and (tmp_path / "ws-rel").is_dir()
