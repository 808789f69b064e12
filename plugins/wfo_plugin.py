"""The wfo plugin for a deployment's plugins folder.

When airflow-provider-wfo is pip-installed, its ``airflow.plugins`` entry point already registers
the plugin; exporting the class here as well would make Airflow report "Plugin 'wfo' already
registered" as a plugin import error. So the class is only exported when the entry point is absent
(the package put on ``PYTHONPATH`` without installing it).
"""

from __future__ import annotations

from importlib.metadata import entry_points


def _entry_point_registered() -> bool:
    try:
        found = entry_points(group="airflow.plugins")
        return any(ep.value.startswith("airflow_provider_wfo.") for ep in found)
    except Exception:
        return False


if not _entry_point_registered():
    from airflow_provider_wfo.plugin import WfoPlugin

    __all__ = ["WfoPlugin"]
