"""Issue 12, case 1: a connection secret never shows, in any form it takes on the wire, in anything
the project writes.

A workflow calls a local server that answers 401 and echoes what it received: the Authorization
header (``Basic base64(login:password)``), the password URL-encoded (``quote`` and ``quote_plus``)
and JSON-escaped. The run is the user's: ``wfo run --json`` in a subprocess with its own
AIRFLOW_HOME, then ``wfo trace`` (text and JSON). Then every artifact is searched for every form:
the command outputs, the JSON-lines events sink, every file under AIRFLOW_HOME (task logs and
``wfo/logs/*.log`` included), every row of every table of the SQLite metadata DB (XCom, serialized
DAG...) and the DB's raw bytes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LOGIN = "advuser"
#: The issue's password, and one that JSON-escaping changes (a quote and a backslash).
PASSWORD = "S3cr3t-P@ss/w0rd+=?&"
PASSWORD_2 = 'An0ther"Secr\\et+/='

pytestmark = pytest.mark.slow


def _echo(request: Request) -> Response:
    """A careless API: a 401 that repeats the credentials it got, in every encoding."""
    import base64
    from urllib.parse import quote, quote_plus

    header = request.headers.get("Authorization", "")
    password = base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[1]
    body = (
        f"unauthorized. You sent Authorization: {request.headers.get('Authorization')}; "
        f"password={quote(password, safe='')} quote={quote(password)} plus={quote_plus(password)} "
        f"json={json.dumps({'password': password})}"
    )
    return Response(body, status=401, content_type="text/plain")


def _dump_db(path: Path) -> str:
    """Every row of every table, as text."""
    lines: list[str] = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                lines.append(f"{table}: " + " | ".join(_cell(c) for c in row))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bytes):
        # XCom values and serialized DAGs may be stored compressed or as bytes: search both readings.
        import zlib

        try:
            return value.decode("utf-8", "replace") + zlib.decompress(value).decode("utf-8", "replace")
        except zlib.error:
            return value.decode("utf-8", "replace")
    return str(value)


def _files_under(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes().decode("utf-8", "replace")


@pytest.fixture
def home(tmp_path: Path, airflow_db: Path) -> Path:
    """A fresh AIRFLOW_HOME whose DB is a copy of the session's migrated one (no migration cost)."""
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(airflow_db) as src, sqlite3.connect(home / "airflow.db") as dst:
        src.backup(dst)
    return home


def _env(home: Path, server: HTTPServer) -> dict[str, str]:
    base = server.url_for("").rstrip("/")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WFO_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW__WFO__EVENT_SINKS=f"log,jsonl:{home / 'events.jsonl'}",
        AIRFLOW_CONN_WFO_HTTP=json.dumps(
            {"conn_type": "http", "host": base, "login": LOGIN, "password": PASSWORD}
        ),
        AIRFLOW_CONN_API_TWO=json.dumps(
            {"conn_type": "http", "host": base, "login": LOGIN, "password": PASSWORD_2}
        ),
    )
    return env


def _wfo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _forms(password: str, login: str) -> set[str]:
    """What the wire makes of a password (the test's own list, not the product's)."""
    import base64
    from urllib.parse import quote, quote_plus

    escaped = json.dumps(password)[1:-1]
    return {
        password,
        quote(password, safe=""),
        quote(password),
        quote_plus(password),
        base64.b64encode(f"{login}:{password}".encode()).decode(),
        escaped,
        json.dumps(escaped)[1:-1],  # JSON inside JSON (an event that carries a JSON text)
    }


def test_the_product_masks_every_form() -> None:
    from airflow_provider_wfo.redaction import secret_forms

    for password in (PASSWORD, PASSWORD_2):
        assert _forms(password, LOGIN) <= secret_forms(password, LOGIN)
    forms = _forms(PASSWORD, LOGIN)
    # The leaked strings are among them.
    assert "YWR2dXNlcjpTM2NyM3QtUEBzcy93MHJkKz0/Jg==" in forms
    assert "S3cr3t-P%40ss%2Fw0rd%2B%3D%3F%26" in forms
    assert PASSWORD in forms and "S3cr3t-P%40ss/w0rd%2B%3D%3F%26" in forms
    assert 'An0ther\\"Secr\\\\et+/=' in _forms(PASSWORD_2, LOGIN)


def echo_definition(workflow_id: str, name: str) -> dict[str, Any]:
    """Two steps calling the echo endpoint on the two connections (also the stack test's workflow)."""
    return {
        "id": workflow_id,
        "name": name,
        "steps": [
            {
                "id": "first",
                "action": "request",
                "target": "http",
                # Expected: the 401 is this step's result (the echo lands in its result XCom).
                "params": {"endpoint": "/echo", "expectStatus": 401},
            },
            {
                "id": "second",
                "action": "request",
                "target": "http",
                "connId": "api_two",
                "params": {"endpoint": "/echo"},
            },
        ],
    }


def test_a_planted_secret_is_in_no_artifact_in_any_form(
    home: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/echo").respond_with_handler(_echo)
    definition = echo_definition("secret-echo", "Secret echo")
    path = tmp_path / "secret-echo.json"
    path.write_text(json.dumps(definition))
    env = _env(home, httpserver)

    run = _wfo(env, "run", str(path), "--json", "--no-progress")
    assert run.returncode == 1, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "FAILED"
    first, second = result["steps"]
    assert first["status"] == "COMPLETED" and first["result"]["data"]["status"] == 401, first
    assert "401" in second["error"], second
    assert len(httpserver.log) == 2  # both requests really went out, with the credentials
    run_id = result["runId"] if "runId" in result else _run_id(home)

    # Both traces at once: each process pays for importing Airflow.
    with ThreadPoolExecutor(2) as pool:
        text_job = pool.submit(_wfo, env, "trace", "secret-echo", run_id, "--params")
        json_job = pool.submit(_wfo, env, "trace", "secret-echo", run_id, "--json")
        trace_text, trace_json = text_job.result(), json_job.result()
    assert trace_text.returncode == 0 and trace_json.returncode == 0, trace_text.stderr + trace_json.stderr
    assert "401" in trace_text.stdout, trace_text.stdout
    assert json.loads(trace_json.stdout)["events"], trace_json.stdout  # JSON alone on stdout

    events = (home / "events.jsonl").read_text()
    assert "step:failed" in events
    logs = list((home / "wfo" / "logs").glob("*.log"))
    assert logs, "wfo run writes Airflow's output to a log file"

    artifacts: dict[str, str] = {
        "wfo run --json": run.stdout + run.stderr,
        "wfo trace": trace_text.stdout + trace_text.stderr,
        "wfo trace --json": trace_json.stdout + trace_json.stderr,
        "DB rows": _dump_db(home / "airflow.db"),
    }
    for file, text in _files_under(home):
        artifacts[str(file.relative_to(home))] = text
    assert any("xcom" in line for line in artifacts["DB rows"].splitlines())

    assert not (found := leaks(artifacts)), "\n".join(found)


def leaks(artifacts: dict[str, str]) -> list[str]:
    """``artifact: password as form`` for every wire form of either password found in an artifact."""
    forms = {f"{pw!r} as {form!r}": form for pw in (PASSWORD, PASSWORD_2) for form in _forms(pw, LOGIN)}
    return [
        f"{where}: {what}"
        for where, text in artifacts.items()
        for what, form in forms.items()
        if form in text
    ]


def _run_id(home: Path) -> str:
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute("SELECT run_id FROM dag_run WHERE dag_id = 'secret-echo'").fetchone()
    return str(row[0])
