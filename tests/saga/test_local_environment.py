"""The embedded default: connections are added only where none exists, the DB check is cheap."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from airflow_provider_wfo.local.environment import (
    _at_head,
    define_local_connections,
    ensure_database,
    local_connection_vars,
)


def test_local_connections_never_shadow_a_db_connection(
    airflow_db: Path, monkeypatch: Any, tmp_path: Path
) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    for name in local_connection_vars(tmp_path):
        monkeypatch.delenv(name, raising=False)
    with create_session() as session:
        session.add(Connection(conn_id="wfo_slack", conn_type="slack", password="xoxb-not-real"))
    try:
        defined = define_local_connections(tmp_path)
        assert "wfo_slack" not in defined
        assert "AIRFLOW_CONN_WFO_SLACK" not in os.environ
        assert "wfo_drive" in defined
        assert '"wfo_local"' in os.environ["AIRFLOW_CONN_WFO_DRIVE"]
        assert str(tmp_path) in os.environ["AIRFLOW_CONN_WFO_DRIVE"]
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "wfo_slack").delete()


def test_database_check_is_at_head_after_ensure(airflow_db: Path) -> None:
    ensure_database()  # a no-op now
    assert _at_head()


def test_test_environment_is_isolated(airflow_home: Path) -> None:
    from airflow.configuration import conf

    assert os.environ["AIRFLOW_HOME"] == str(airflow_home)
    assert str(airflow_home) in conf.get("database", "sql_alchemy_conn")
    assert Path(conf.get("core", "dags_folder")) == airflow_home / "wfo" / "dags"
    assert not str(airflow_home).startswith(str(Path(__file__).resolve().parents[2]))
