"""The embedded default: a project-local AIRFLOW_HOME with SQLite, configured before Airflow is imported.

``prepare_environment()`` must run before the first ``import airflow`` of the process (Airflow reads
its configuration at import): it sets ``AIRFLOW_HOME`` (``$WFO_HOME``, else an existing
``$AIRFLOW_HOME``, else ``<repo or cwd>/.airflow``), SQLite, no example DAGs, the dags folder
``$AIRFLOW_HOME/wfo/dags`` and the workspace ``$AIRFLOW_HOME/workspace``. ``ensure_database()``
migrates the metadata DB only when it is not at the current revision (a fast check: one query);
``define_local_connections()`` then adds the local ``wfo_*`` connections (``conn_type`` ``wfo_local``)
through ``AIRFLOW_CONN_*`` for the ids not defined already (environment or metadata DB).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalEnvironment:
    home: Path
    dags_folder: Path
    workspace: Path
    database: str


def _project_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder
    return start


def default_home() -> Path:
    if os.environ.get("WFO_HOME"):
        return Path(os.environ["WFO_HOME"]).expanduser().resolve()
    if os.environ.get("AIRFLOW_HOME"):
        return Path(os.environ["AIRFLOW_HOME"]).expanduser().resolve()
    return _project_root(Path.cwd().resolve()) / ".airflow"


_prepared: LocalEnvironment | None = None


def prepare_environment(home: str | Path | None = None) -> LocalEnvironment:
    """Set the environment for the embedded default. Idempotent; call before importing Airflow."""
    global _prepared
    if _prepared is not None and home is None:
        return _prepared
    airflow_home = Path(home).expanduser().resolve() if home is not None else default_home()
    airflow_home.mkdir(parents=True, exist_ok=True)
    dags_folder = airflow_home / "wfo" / "dags"
    dags_folder.mkdir(parents=True, exist_ok=True)
    workspace = Path(os.environ.get("WFO_WORKSPACE") or airflow_home / "workspace")
    workspace.mkdir(parents=True, exist_ok=True)
    env = os.environ
    env["AIRFLOW_HOME"] = str(airflow_home)
    database = env.setdefault(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{airflow_home / 'airflow.db'}"
    )
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # A DAG first written by `wfo run` / `scripts/demo` must not be created paused: `scripts/demo --ui`
    # on the same DB would then show it paused and leave its runs queued.
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    env.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    # A quiet local run: the in-process supervisor needs no api-server, no serve-logs port.
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    env.setdefault("WFO_WORKSPACE", str(workspace))
    if "airflow" in sys.modules:
        _sync_loaded_airflow(dags_folder)
    _prepared = LocalEnvironment(airflow_home, dags_folder, workspace, database)
    return _prepared


def _sync_loaded_airflow(dags_folder: Path) -> None:
    """Airflow was imported already (a test, a notebook): point its dags folder here too."""
    from airflow import settings
    from airflow.configuration import conf

    conf.set("core", "dags_folder", str(dags_folder))
    settings.DAGS_FOLDER = str(dags_folder)


def local_connection_vars(workspace: Path) -> dict[str, str]:
    """``AIRFLOW_CONN_WFO_<TARGET>`` -> a ``wfo_local`` connection JSON, for every local target."""
    from airflow_provider_wfo.connectors.catalog import local_targets

    value = json.dumps({"conn_type": "wfo_local", "extra": {"workspace": str(workspace)}})
    return {f"AIRFLOW_CONN_WFO_{target.upper()}": value for target in local_targets()}


def define_local_connections(workspace: Path) -> list[str]:
    """Define the local ``wfo_*`` connections through the environment, except those already defined.

    Environment connections win over the metadata DB in Airflow's lookup, so a ``wfo_<target>``
    connection someone added with ``airflow connections add`` (or in the UI) must not be shadowed:
    only ids found neither in the environment nor in the DB are defined. Needs a migrated DB.
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    wanted = {
        name: value for name, value in local_connection_vars(workspace).items() if name not in os.environ
    }
    if not wanted:
        return []
    ids = {name[len("AIRFLOW_CONN_") :].lower(): name for name in wanted}
    with create_session() as session:
        existing = set(session.scalars(select(Connection.conn_id).where(Connection.conn_id.in_(list(ids)))))
    defined = []
    for conn_id, name in ids.items():
        if conn_id not in existing:
            os.environ[name] = wanted[name]
            defined.append(conn_id)
    return defined


def ensure_database() -> None:
    """Migrate the metadata DB when it is missing or behind; a no-op (one query) when current."""
    from airflow.utils import db

    try:
        needs = not _at_head()
    except Exception:
        needs = True
    if needs:
        db.initdb()


def _at_head() -> bool:
    from airflow import settings
    from airflow.utils import db
    from sqlalchemy import text

    if settings.engine is None:
        settings.configure_orm()  # type: ignore[no-untyped-call]
    assert settings.engine is not None
    with settings.engine.connect() as connection:
        try:
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
        except Exception:
            return False
    if not current:
        return False
    # The newest release head Airflow ships is a dict lookup; only an unknown revision needs alembic.
    known_heads = list(getattr(db, "_REVISION_HEADS_MAP", {}).values())
    if known_heads and current == {known_heads[-1]}:
        return True
    from alembic.script import ScriptDirectory

    config = db._get_alembic_config()  # type: ignore[no-untyped-call]
    heads = set(ScriptDirectory.from_config(config).get_heads())
    return current == heads
