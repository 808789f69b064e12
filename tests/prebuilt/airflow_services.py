"""A real Airflow 3 deployment for tests: api-server, scheduler and dag-processor on a temporary
AIRFLOW_HOME with SQLite, LocalExecutor and SimpleAuthManager (all admins). Started and stopped by the
test that needs it; nothing is left running."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from airflow_provider_wfo.prebuilt.demo import stop_processes
from airflow_provider_wfo.prebuilt.rest import AirflowApiError, AirflowRest

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowServices:
    url: str
    home: Path
    env: dict[str, str]
    logs: Path

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"==== {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    #: (user, password) when the deployment has users; None = all-admins mode.
    credentials: tuple[str, str] | None = None

    def rest(self) -> AirflowRest:
        """The product's REST client (prebuilt/rest.py) for these services."""
        user, password = self.credentials or (None, None)
        return AirflowRest(self.url, username=user, password=password, request_timeout=10)

    def token(self) -> str:
        return self.rest().access_token()

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> None:
        try:
            self.rest().wait_for_dag(dag_id, timeout, interval=2)
        except AirflowApiError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None


def service_env(
    home: Path, dags_folder: Path, port: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "WFO_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def airflow_services(
    home: Path,
    dags_folder: Path,
    extra_env: Mapping[str, str] | None = None,
    credentials: tuple[str, str] | None = None,
    components: tuple[str, ...] = ("api-server", "scheduler", "dag-processor"),
) -> Iterator[AirflowServices]:
    """Migrate a SQLite DB under ``home`` and run api-server, scheduler and dag-processor.

    ``credentials``: one SimpleAuthManager admin user with that password instead of all-admins mode.
    ``components``: which Airflow processes to start (a parsing test needs no scheduler).
    """
    home.mkdir(parents=True, exist_ok=True)
    logs = home / "service-logs"
    logs.mkdir(exist_ok=True)
    port = free_port()
    env = service_env(home, dags_folder, port, extra_env)
    if credentials is not None:
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({credentials[0]: credentials[1]}))
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{credentials[0]}:admin"
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for component in components:
            log = (logs / f"{component}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [AIRFLOW, component],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        services = AirflowServices(
            url=f"http://127.0.0.1:{port}", home=home, env=env, logs=logs, credentials=credentials
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{services.url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"Airflow services did not come up\n{services.log_tail()}")
            time.sleep(1)
        yield services
    finally:
        stop_processes(procs)
