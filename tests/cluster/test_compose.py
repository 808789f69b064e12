"""docker-compose.yaml cannot run here (no Docker engine): check what can be checked without it. The
file parses; it has the official Airflow 3 services; each one runs the command the native stack
(scripts/cluster, exercised end to end by test_e2e.py) runs; and the environment agrees with it."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from .conftest import ROOT, load_cluster_script

COMPOSE = ROOT / "docker-compose.yaml"
OFFICIAL_SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
}
# compose service -> native component of scripts/cluster
NATIVE_OF = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "worker-1",
}
# Settings that legitimately differ: addresses, secrets, paths, and the test cluster's tuning.
DIFFERENT_BY_DESIGN = {
    "AIRFLOW_HOME",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__API__HOST",
    "AIRFLOW__API__PORT",
    "AIRFLOW__API__WORKERS",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__FERNET_KEY",
    # Tests log in as an anonymous admin; the compose file has a real user and password.
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "WFO_WORKSPACE",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def native() -> Any:
    script = load_cluster_script()
    return script.Cluster(script.Settings(home=Path("/nonexistent/wfo-compose-check")))


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_official_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= OFFICIAL_SERVICES


def test_commands_match_native_stack(compose: dict[str, Any], native: Any) -> None:
    native_argv = native.component_argv()
    for service, component in NATIVE_OF.items():
        argv = _argv(compose["services"][service]["command"])
        # native: [<venv>/bin/airflow, *args]; the image's entrypoint runs `airflow <command>`.
        expected = native_argv[component][1:]
        assert expected[: len(argv)] == argv, (service, argv, expected)
    script = load_cluster_script()
    init = compose["services"]["airflow-init"]
    # The image entrypoint migrates when _AIRFLOW_DB_MIGRATE is true; natively `airflow db migrate`.
    assert script.MIGRATE_ARGV == ["db", "migrate"]
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "exec /entrypoint airflow version" in "\n".join(_argv(init["command"]))


def test_every_airflow_service_shares_the_environment(compose: dict[str, Any]) -> None:
    common = compose["x-airflow-common"]["environment"]
    for name, service in compose["services"].items():
        if not name.startswith("airflow-") and name != "flower":
            continue
        env = service["environment"]
        for key, value in common.items():
            if name == "airflow-init" and key == "_PIP_ADDITIONAL_REQUIREMENTS":
                continue
            assert env.get(key) == value, (name, key)


def test_environment_matches_native_stack(compose: dict[str, Any], native: Any) -> None:
    env = compose["x-airflow-common"]["environment"]
    native_env = native.env()
    for key, value in native_env.items():
        if key in DIFFERENT_BY_DESIGN or key in load_cluster_script().TEST_PROFILE:
            continue
        if key.startswith("AIRFLOW_CONN_"):
            continue  # compared below (the workspace path differs)
        assert key in env, f"{key} is set natively but not in docker-compose.yaml"
        assert str(env[key]).lower() == str(value).lower(), (key, env[key], value)

    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    # One JWT secret for every component, from .env (never a per-container random one).
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in env
    # Tasks reach the api-server's execution API by its service name and container port.
    url = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver" and url.path == "/execution/"
    ports = compose["services"]["airflow-apiserver"]["ports"]
    assert any(str(p).endswith(f":{url.port}") for p in ports), ports


def test_connections_and_workspace(compose: dict[str, Any], native: Any) -> None:
    env = compose["x-airflow-common"]["environment"]
    native_conns = {k for k in native.env() if k.startswith("AIRFLOW_CONN_WFO_")}
    compose_conns = {k for k in env if k.startswith("AIRFLOW_CONN_WFO_")}
    assert compose_conns == native_conns
    workspace = env["WFO_WORKSPACE"]
    for key in compose_conns:
        conn = json.loads(env[key])
        assert conn["conn_type"] == "wfo_local"
        assert conn["extra"]["workspace"] == workspace
    # The workspace is shared by every container through one bind mount.
    mounts = dict(reversed(v.rsplit(":", 1)) for v in compose["x-airflow-common"]["volumes"])
    assert workspace in mounts


def test_dags_and_plugins_mounted(compose: dict[str, Any]) -> None:
    volumes = compose["x-airflow-common"]["volumes"]
    mounts = dict(reversed(v.rsplit(":", 1)) for v in volumes)
    assert mounts["/opt/airflow/dags"].endswith("/dags")
    assert mounts["/opt/airflow/plugins"].endswith("/plugins")
    assert (ROOT / "dags").is_dir() and (ROOT / "plugins").is_dir()


def test_services_wait_for_init(compose: dict[str, Any]) -> None:
    for name in NATIVE_OF:
        depends = compose["services"][name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_image_installs_this_package_on_the_tested_airflow(compose: dict[str, Any]) -> None:
    assert compose["x-airflow-common"]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:(\S+)$", dockerfile, re.M)
    assert base, "Dockerfile must build FROM the official apache/airflow image"
    tag = base.group(1)
    assert tag.split("-")[0] == importlib.metadata.version("apache-airflow")
    assert tag.endswith("-python3.11")
    assert "--constraint /opt/airflow-provider-wfo/constraints.txt" in dockerfile
    assert '"/opt/airflow-provider-wfo[all]"' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored  # a multi-GB build context otherwise
