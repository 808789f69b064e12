"""The Airflow settings every stack of this repo shares (``scripts/demo --ui``, ``scripts/cluster``,
``docker-compose.yaml``): how soon a dropped, edited or fixed definition can be triggered, and that
new DAGs start unpaused. ``tests/dropin/test_stacks.py`` checks each stack against this table.

A definition is read when its loader ``.py`` file is re-parsed, every ``min_file_process_interval``;
the result is written to the metadata DB at most every ``min_serialized_dag_update_interval``, which
also bounds how long the api-server serves a cached older version. ``refresh_interval`` is how often
the dags folder is listed for new or deleted ``.py`` files (a new loader, not a new definition).
Worst case for a definition: about ``min_file_process_interval`` + the parse + the serialization
interval; see docs/dropin.md for what was measured.
"""

from __future__ import annotations

DROPIN_SETTINGS: dict[str, str] = {
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "15",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "15",
    "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "5",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
}
