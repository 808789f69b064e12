"""The shared Airflow test environment.

Module level (before anything imports Airflow): a temporary AIRFLOW_HOME (never the repo's .airflow,
never ~/airflow), SQLite, no examples, dags folder ``$AIRFLOW_HOME/wfo/dags`` (the one
``execute_workflow`` uses), local ``wfo_*`` connections to ``$AIRFLOW_HOME/workspace``.

The home is removed at the end of the session (``WFO_KEEP_TEST_HOME=1`` keeps it).
Migrating SQLite takes seconds, so a migrated template DB is cached per Airflow version under
``$WFO_TEST_CACHE`` (default ``<tmp>/wfo-test-cache``) and copied in; ``ensure_database`` then only
checks the revision.

Fixtures:

* ``airflow_home`` (session): the temporary AIRFLOW_HOME, as a Path.
* ``airflow_db`` (session): a migrated metadata DB; depend on it in any test that touches Airflow's DB.
* ``dags_folder`` (session): the configured dags folder (``$AIRFLOW_HOME/wfo/dags``).
* ``wfo_calls`` (function): a fresh JSON-lines file the ``test`` actions record into; returns a
  ``read()``-able recorder (see ``tests/wfo_test_actions.py``).
* ``run_workflow`` (session): ``run_workflow(defn_dict, conf=None) -> WorkflowResult`` via the real
  DAG and ``dag.test``; ``run_workflow.last`` is the last ``RunOutcome`` (dag_run_state, task_states,
  run_id, dag_id).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="wfo-airflow-home-"))
os.environ.pop("WFO_HOME", None)
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["WFO_WORKSPACE"] = str(_HOME / "workspace")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "wfo" / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
for _name in list(os.environ):
    # Connections of the developer's shell must not leak into tests.
    if _name.startswith("AIRFLOW_CONN_WFO_"):
        del os.environ[_name]

_AIRFLOW_VERSION = importlib.metadata.version("apache-airflow")
_CACHE = Path(os.environ.get("WFO_TEST_CACHE") or Path(tempfile.gettempdir()) / "wfo-test-cache")
_TEMPLATE = _CACHE / f"airflow-{_AIRFLOW_VERSION}.db"


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy even in WAL mode (a plain file copy can miss the -wal part)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


if _TEMPLATE.exists():
    _sqlite_copy(_TEMPLATE, _HOME / "airflow.db")

from airflow_provider_wfo.local.environment import local_connection_vars, prepare_environment  # noqa: E402

_ENV = prepare_environment(_HOME)
# A fresh DB has no connections, so the local ones can be set right away (before Airflow is imported).
os.environ.update(local_connection_vars(_ENV.workspace))

import wfo_test_actions  # noqa: E402  (registers the ``test`` actions)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    from airflow_provider_wfo.local.environment import ensure_database

    ensure_database()
    if not _TEMPLATE.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        tmp = _TEMPLATE.with_suffix(f".{os.getpid()}.tmp")
        _sqlite_copy(airflow_home / "airflow.db", tmp)
        os.replace(tmp, _TEMPLATE)
    return airflow_home / "airflow.db"


@pytest.fixture(scope="session")
def dags_folder(airflow_db: Path) -> Path:
    return _ENV.dags_folder


class CallRecorder:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        return wfo_test_actions.read_calls(self.path)

    def clear(self) -> None:
        self.path.write_text("")


@pytest.fixture
def wfo_calls(tmp_path: Path) -> Iterator[CallRecorder]:
    path = tmp_path / "calls.jsonl"
    path.write_text("")
    wfo_test_actions.set_calls_file(path)
    yield CallRecorder(path)
    wfo_test_actions.set_calls_file(None)


class WorkflowRunner:
    """``runner(defn_dict, conf=None) -> WorkflowResult``; ``runner.last`` holds the RunOutcome."""

    def __init__(self) -> None:
        self.last: Any = None

    def __call__(self, defn: Mapping[str, Any] | Any, conf: Mapping[str, Any] | None = None) -> Any:
        from airflow_provider_wfo.local.runner import run_workflow

        self.last = run_workflow(defn, conf)
        return self.last.result


@pytest.fixture(scope="session")
def run_workflow(dags_folder: Path) -> Callable[..., Any]:
    return WorkflowRunner()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the temporary AIRFLOW_HOME (keep it with WFO_KEEP_TEST_HOME=1 to look at logs and the DB)."""
    if os.environ.get("WFO_KEEP_TEST_HOME") != "1":
        shutil.rmtree(_HOME, ignore_errors=True)
