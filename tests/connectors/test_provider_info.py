"""The connection types the provider registers come from the connectors' declarations; each points
at a hook whose conn_type, name and form are the declaration's (Airflow's ProvidersManager reads
these; checked by hand with ``ProvidersManager().hooks`` -- too slow to run here)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from airflow_provider_wfo.connectors import catalog
from airflow_provider_wfo.connectors.local import CONNECTION as LOCAL
from airflow_provider_wfo.get_provider_info import get_provider_info


def test_committed_provider_info_matches_the_declarations() -> None:
    from airflow_provider_wfo.connectors import provider_info
    from airflow_provider_wfo.get_provider_info import CONNECTION_TYPES_PATH

    assert CONNECTION_TYPES_PATH.read_text() == provider_info.text(), "run scripts/build-readme"


def test_get_provider_info_imports_no_connector() -> None:
    """Airflow calls it in every process at start-up."""
    import subprocess
    import sys

    code = (
        "import sys; from airflow_provider_wfo.get_provider_info import get_provider_info;"
        "get_provider_info();"
        "sys.exit(1 if any(m.startswith('airflow_provider_wfo.connectors') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_connection_types_are_the_declared_ones_and_hooks_agree() -> None:
    info = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
    declared = [LOCAL, *(t for c in catalog.connectors() for t in c.connection_types)]
    assert set(info) == {t.conn_type for t in declared}
    for conn_type in declared:
        entry = info[conn_type.conn_type]
        module, _, name = entry["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert hook.conn_type == conn_type.conn_type and hook.hook_name == entry["hook-name"]
        assert hook.get_ui_field_behaviour()["hidden_fields"] == entry["ui-field-behaviour"]["hidden-fields"]
        assert entry["conn-fields"], conn_type
        for field in entry["conn-fields"].values():
            assert field["label"] and "type" in field["schema"]
    assert "workspace" in info["wfo_local"]["conn-fields"]


def test_every_backend_and_doctor_the_connectors_name_exists() -> None:
    from airflow_provider_wfo.connectors.runtime import Backend
    from airflow_provider_wfo.connectors.spec import load_object

    for connector in catalog.connectors():
        for conn_type, path in connector.backends.items():
            backend = load_object(path)
            assert issubclass(backend, Backend), (connector.target, conn_type)
            for action in connector.actions:
                assert callable(getattr(backend, action.method_name, None)), (path, action.name)
        if connector.doctor:
            assert callable(load_object(connector.doctor)), connector.doctor


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
