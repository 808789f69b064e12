"""The main job: ``scripts/demo`` (commit), ``--fail`` (rollback) and ``--ui`` (airflow standalone with
the package's DAGs, a workflow triggered with conf as the UI form does), each in a fresh process on a
temporary WFO_HOME -- never the repo's .airflow."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from airflow_provider_wfo.results import WorkflowResult, WorkflowStatus

from .airflow_services import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _demo_env(home: Path, db: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    # A migrated DB saves the half minute of `airflow db migrate` a first real run spends.
    with sqlite3.connect(db) as src, sqlite3.connect(home / "airflow.db") as dst:
        src.backup(dst)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "WFO_")) and k != "AIRFLOW_HOME"
    }
    env["WFO_HOME"] = str(home)
    env["COLUMNS"] = "120"
    return env


def _demo(args: list[str], env: dict[str, str], script: bool = False) -> subprocess.CompletedProcess[str]:
    command = (
        [str(REPO / "scripts" / "demo")]
        if script
        else [sys.executable, "-m", "airflow_provider_wfo.prebuilt.demo"]
    )
    return subprocess.run(
        [*command, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_scripts_demo_is_the_entry_point() -> None:
    script = REPO / "scripts" / "demo"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "scripts/setup" in text and "airflow_provider_wfo.prebuilt.demo" in text


def test_demo_commits_then_rolls_back(tmp_path: Path, airflow_db: Path) -> None:
    home = tmp_path / "home"
    env = _demo_env(home, airflow_db)
    workspace = home / "workspace"

    # The README's command itself (scripts/setup is a no-op on an up-to-date .venv), from a shell whose
    # Airflow settings point elsewhere: the demo ignores them.
    polluted = {
        **env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "elsewhere"),
        "AIRFLOW_HOME": str(tmp_path / "x"),
    }
    done = _demo([], polluted, script=True)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for expected in ("Filed document", "Sheet row", "Slack message", "Acme Corporation", "COMPLETED"):
        assert expected in out, out
    filed = list((workspace / "drive" / "Invoices").glob("Invoice-Acme-2025-001*.pdf"))
    assert len(filed) == 1
    assert filed[0].read_bytes() == (REPO / "examples" / "sample-invoice.pdf").read_bytes()
    assert "Acme Corporation" in next((workspace / "sheets" / "invoice-tracking").glob("*.csv")).read_text()
    assert "accounting" in (workspace / "slack" / "outbox.jsonl").read_text()
    assert "Traceback" not in out  # Airflow's output goes to the log file, not the terminal
    assert (home / "logs" / "wfo-demo.log").exists()
    assert not any((workspace / "inbox").rglob("*.pdf"))  # the staged copy is cleaned up

    failed = _demo(["--fail"], env)
    assert failed.returncode == 0, failed.stdout + failed.stderr
    out = failed.stdout
    for expected in ("ROLLED_BACK", "retries", "rollback", "gone", "failure injected"):
        assert expected in out, out
    # Only the committed run's document is left: the second one was filed, then deleted.
    assert list((workspace / "drive" / "Invoices").glob("Invoice-Acme-2025-001*.pdf")) == filed


def _listening(pid: int) -> set[tuple[str, int]]:
    """Every TCP address the process ``pid`` and its children listen on."""
    import psutil

    root = psutil.Process(pid)
    found: set[tuple[str, int]] = set()
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    found.add((conn.laddr.ip, conn.laddr.port))
    return found


def test_demo_then_demo_ui_a_newcomers_path(tmp_path: Path, airflow_db: Path) -> None:
    """The README's path: `scripts/demo`, then `scripts/demo --ui` on the same home: no DAG is paused,
    a workflow triggered with conf as the form does completes, and every port is 127.0.0.1:--port."""
    home = tmp_path / "home"
    env = _demo_env(home, airflow_db)
    first = _demo([], env)
    assert first.returncode == 0, first.stdout + first.stderr
    port = free_port()
    log = (tmp_path / "standalone.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_wfo.prebuilt.demo", "--ui", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def tail() -> str:
        return (tmp_path / "standalone.log").read_text(errors="replace")[-6000:]

    # Plain HTTP on purpose (not prebuilt/rest.py): this checks the demo as a browser's trigger form
    # or a user's curl sees it, independently of our own client.
    try:
        deadline = time.monotonic() + 300
        headers: dict[str, str] = {}
        while True:
            assert proc.poll() is None, tail()
            assert time.monotonic() < deadline, tail()
            with contextlib.suppress(requests.RequestException):
                if not headers:
                    token = requests.get(f"{url}/auth/token", timeout=5).json()["access_token"]
                    headers = {"Authorization": f"Bearer {token}"}
                dags = requests.get(f"{url}/api/v2/dags", headers=headers, params={"limit": 100}, timeout=10)
                ids = {d["dag_id"] for d in dags.json().get("dags", [])}
                if {"wfo_invoice", "wfo_bug_report", "wfo_meeting", "wfo_report"} <= ids:
                    break
            time.sleep(2)
        # Nothing is paused, wfo_invoice (first written by `scripts/demo`) included.
        paused = requests.get(f"{url}/api/v2/dags", headers=headers, params={"paused": True}, timeout=10)
        assert [d["dag_id"] for d in paused.json()["dags"]] == []
        # Only the api-server listens, on loopback and the chosen port (no log server on 0.0.0.0).
        assert _listening(proc.pid) == {("127.0.0.1", port)}
        # What the trigger form does: POST the conf; a wrong type is refused.
        bad = requests.post(
            f"{url}/api/v2/dags/wfo_meeting/dagRuns",
            headers=headers,
            json={"logical_date": None, "conf": {"title": "Retro", "duration": "sixty"}},
            timeout=30,
        )
        assert bad.status_code == 400, bad.text
        conf = {
            "title": "Q1 Sprint Planning",
            "date": "2025-01-20",
            "time": "10:00 AM",
            "duration": 60,
            "attendees": ["john@example.com", "jane@example.com"],
            "agenda": "1. Review Q4",
        }
        run = requests.post(
            f"{url}/api/v2/dags/wfo_meeting/dagRuns",
            headers=headers,
            json={"logical_date": None, "conf": conf},
            timeout=30,
        )
        assert run.status_code == 200, run.text
        run_id = run.json()["dag_run_id"]
        deadline = time.monotonic() + 300
        while True:
            # A busy one-worker api-server on a loaded machine may miss one poll; the next one counts.
            with contextlib.suppress(requests.RequestException):
                state = requests.get(
                    f"{url}/api/v2/dags/wfo_meeting/dagRuns/{run_id}", headers=headers, timeout=30
                )
                if state.json()["state"] in ("success", "failed"):
                    break
            assert time.monotonic() < deadline, tail()
            time.sleep(2)
        xcom = requests.get(
            f"{url}/api/v2/dags/wfo_meeting/dagRuns/{run_id}/taskInstances/workflow_result/xcomEntries/return_value",
            headers=headers,
            timeout=10,
        ).json()["value"]
        result = WorkflowResult.model_validate(json.loads(xcom) if isinstance(xcom, str) else xcom)
        # Task logs are read from the shared log folder (no log server is started).
        logs = requests.get(
            f"{url}/api/v2/dags/wfo_meeting/dagRuns/{run_id}/taskInstances/workflow_result/logs/1",
            headers={**headers, "Accept": "application/json"},
            timeout=30,
        )
        assert logs.status_code == 200 and "workflow" in logs.text.lower(), logs.text[:2000]
        assert result.status is WorkflowStatus.COMPLETED, (result, tail())
        page = result.step("create-notion").result
        assert page is not None
        assert (home / "workspace" / "notion" / "pages" / f"{page.data['id']}.json").exists()
    finally:
        import psutil

        components: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            components = psutil.Process(proc.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()
        # Stopping the demo stops every Airflow process it started (each runs in its own session).
        _, left = psutil.wait_procs(components, timeout=30)
        for straggler in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                straggler.kill()
        assert not left, f"still running after the demo stopped: {left}"
