"""The Airflow plugin: registered by the ``airflow.plugins`` entry point and by ``plugins/``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class WfoPlugin(AirflowPlugin):
    name = "wfo"
