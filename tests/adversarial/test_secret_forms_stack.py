"""Issue 12, case 1 on a real deployment: the planted secret of ``test_secret_forms.py`` under the
scheduler, the dag-processor and the api-server, each task in its own worker process (LocalExecutor).

There the task logs are written by the task's supervisor process, which masks only what the task
process told it (``mask_secret`` sends every registered form over), and the events come from the
worker and the scheduler. Every file under AIRFLOW_HOME (task logs, component logs, the events sink),
every DB row and ``wfo trace`` are searched for every form of both passwords.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from test_secret_forms import (
    LOGIN,
    PASSWORD,
    PASSWORD_2,
    _dump_db,
    _echo,
    _files_under,
    _wfo,
    echo_definition,
    leaks,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "events"))
from wfo_events_stack import Stack

pytestmark = pytest.mark.slow

DEFINITION = echo_definition("secret-echo-stack", "Secret echo (stack)")


def test_a_planted_secret_is_in_no_artifact_of_a_real_deployment(
    tmp_path: Path, httpserver: HTTPServer, airflow_db: Path
) -> None:
    httpserver.expect_request("/echo").respond_with_handler(_echo)
    base = httpserver.url_for("").rstrip("/")
    home = tmp_path / "stack"
    with sqlite3.connect(airflow_db) as src, sqlite3.connect(tmp_path / "template.db") as dst:
        src.backup(dst)
    stack = Stack(home, tmp_path / "template.db", [DEFINITION])
    stack.env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
    stack.env["AIRFLOW_CONN_WFO_HTTP"] = json.dumps(
        {"conn_type": "http", "host": base, "login": LOGIN, "password": PASSWORD}
    )
    stack.env["AIRFLOW_CONN_API_TWO"] = json.dumps(
        {"conn_type": "http", "host": base, "login": LOGIN, "password": PASSWORD_2}
    )
    try:
        stack.start()
        stack.wait_for_dag("secret-echo-stack")
        run_id = stack.trigger("secret-echo-stack", {})
        assert stack.wait_for_run("secret-echo-stack", run_id) == "failed"
        status, xcom = stack.request(
            "GET",
            f"/api/v2/dags/secret-echo-stack/dagRuns/{stack.q(run_id)}/taskInstances/workflow_result/xcomEntries/return_value",
        )
    finally:
        stack.stop()
    assert status == 200, xcom
    result: dict[str, Any] = xcom["value"] if isinstance(xcom["value"], dict) else json.loads(xcom["value"])
    assert result["status"] == "FAILED" and "401" in result["steps"][1]["error"]
    assert len(httpserver.log) == 2
    assert stack.events(run_id), "the events sink got the run"
    task_logs = [p for p in (home / "logs").rglob("*") if p.is_file() and "secret-echo-stack" in str(p)]
    assert task_logs, "the supervisors wrote task logs"

    trace = _wfo(stack.env, "trace", "secret-echo-stack", run_id, "--json")
    assert trace.returncode == 0 and json.loads(trace.stdout)["events"], trace.stderr
    artifacts = {"REST xcom": json.dumps(xcom), "wfo trace --json": trace.stdout + trace.stderr}
    artifacts["DB rows"] = _dump_db(home / "airflow.db")
    artifacts.update({str(f.relative_to(home)): text for f, text in _files_under(home)})
    assert not (found := leaks(artifacts)), "\n".join(found)
