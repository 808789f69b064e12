"""Where the benchmarks run: a temporary AIRFLOW_HOME (never the repo's .airflow, never ~/airflow),
SQLite, no examples, and the environment every child process gets."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.deps import dagfactory_version

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def load_cluster_script() -> ModuleType:
    """scripts/cluster as a module (it has no .py suffix: it is a command first). The one loader, used
    by the Celery benchmark and tests/cluster."""
    name = "wfo_cluster_script"
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / "scripts" / "cluster"))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    loader.exec_module(module)
    return module


def clean_base_env() -> dict[str, str]:
    """The caller's environment without any Airflow or wfo setting (a developer's shell may point at
    another AIRFLOW_HOME or define connections)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("AIRFLOW", "_AIRFLOW", "WFO_")) or k == "PYTHONPATH")
    }


def airflow_env(home: Path, dags_folder: Path, pythonpath: list[Path] | None = None) -> dict[str, str]:
    env = clean_base_env()
    workspace = home / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "WFO_HOME": str(home),
            "WFO_WORKSPACE": str(workspace),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            # Big generated files (1000 definitions, 5000 steps) must not hit the 30 s import timeout.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "3600",
            "AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT": "3600",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": os.pathsep.join(str(p) for p in [ROOT, *(pythonpath or [])]),
        }
    )
    conn = json.dumps({"conn_type": "wfo_local", "extra": {"workspace": str(workspace)}})
    for target in ("drive", "sheets", "slack", "trello", "notion", "email", "http"):
        env[f"AIRFLOW_CONN_WFO_{target.upper()}"] = conn
    return env


def make_home(prefix: str = "wfo-bench-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


def template_db() -> Path:
    version = importlib.metadata.version("apache-airflow")
    cache = Path(os.environ.get("WFO_TEST_CACHE") or Path(tempfile.gettempdir()) / "wfo-test-cache")
    return cache / f"airflow-{version}.db"


def migrate(home: Path, env: dict[str, str]) -> str:
    """A migrated SQLite DB in ``home``: a copy of the test suite's cached template when there is one
    (tests/conftest.py keeps it per Airflow version), otherwise ``airflow db migrate`` once."""
    db = home / "airflow.db"
    template = template_db()
    how = "airflow db migrate"
    if template.exists():
        with sqlite3.connect(template) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
        how = f"copy of {template}"
    code = "from airflow_provider_wfo.local.environment import ensure_database; ensure_database()"
    subprocess.run([PYTHON, "-c", code], env=env, check=True, cwd=home, capture_output=True, timeout=900)
    return how


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    except OSError:
        free = ""
    mem = ""
    for line in free.splitlines():
        if line.startswith("Mem:"):
            mem = line.split()[1]
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "-"

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "free_h": free.strip(),
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "task_sdk": version("apache-airflow-task-sdk"),
        "dag_factory": dagfactory_version(),
        "provider": version("airflow-provider-wfo"),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }
