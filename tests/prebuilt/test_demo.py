"""The main job: ``scripts/demo`` (commit), ``--fail`` (rollback) and ``--ui`` (Airflow with the
package's DAGs: in headless Chromium, wfo_meeting triggered from its form and its workflow view read),
each in a fresh process on a temporary WFO_HOME -- never the repo's .airflow. The screenshots of the
filled form, the workflow view and the Workflows index are kept in the newcomer test's tmp dir."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import pytest
import requests
from wfo_browser import chromium, new_page

from airflow_provider_wfo.results import WorkflowResult, WorkflowStatus

from .airflow_services import free_port

if TYPE_CHECKING:
    from playwright.sync_api import FrameLocator, Page

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


#: What a newcomer types into wfo_meeting's trigger form, field by field (the form's input names are
#: ``element_<param>``; Airflow 3.3's labels point at other ids, so they cannot find the inputs).
FORM = {
    "title": "Q1 Sprint Planning",
    "date": "2025-01-20",  # a date input: Chromium takes the ISO form, whatever it displays
    "time": "10:00 AM",
    "attendees": "john@example.com\njane@example.com",  # "one per line"
    "agenda": "1. Review Q4",
}
#: The run conf the form must make of it: lines become a list, the number field an integer, and the
#: Notion database keeps its pre-filled default.
CONF = {
    "title": "Q1 Sprint Planning",
    "date": "2025-01-20",
    "time": "10:00 AM",
    "duration": 60,
    "attendees": ["john@example.com", "jane@example.com"],
    "agenda": "1. Review Q4",
    "databaseId": "meetings",
}
STEPS = ("create-notion", "notify-attendees")


def _ms(start: str, end: str) -> int:
    """Milliseconds between two of Airflow's REST timestamps (as the view counts them: truncated)."""
    return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() * 1000)


def _trigger_from_the_form(page: Page, url: str, shots: Path) -> str:
    """Open wfo_meeting, press Trigger, fill the form and press the dialog's Trigger: the run id the
    api-server answered the form's POST with."""
    page.goto(f"{url}/dags/wfo_meeting")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Duration").first.wait_for(timeout=60_000)
    for name, value in FORM.items():
        dialog.locator(f"[name=element_{name}]").fill(value)
    dialog.get_by_role("spinbutton").first.fill("60")
    dialog.locator("[name=element_agenda]").press("Tab")
    page.screenshot(path=str(shots / "trigger-form-filled.png"), full_page=True)
    submit = dialog.get_by_role("button", name="Trigger", exact=True)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/v2/dags/wfo_meeting/dagRuns"),
        timeout=60_000,
    ) as answer:
        submit.click()
    assert answer.value.status == 200, answer.value.text()
    run_id = str(answer.value.json()["dag_run_id"])
    # The UI moves on to the new run's page.
    page.wait_for_url(lambda u: unquote(u).endswith(f"/dags/wfo_meeting/runs/{run_id}"), timeout=60_000)
    return run_id


def _check_workflow_view(
    view: FrameLocator, run: dict[str, Any], tis: dict[str, dict[str, Any]], result: WorkflowResult
) -> None:
    """What the user reads in the workflow view of the finished run, against Airflow's own record of it
    (REST) and the WorkflowResult."""
    view.locator("#wfo-status").wait_for(timeout=60_000)
    assert view.locator("h1").inner_text().startswith("Schedule Meeting")  # the workflow's name
    assert view.locator("#wfo-status").inner_text() == "COMPLETED"  # the saga's status, not "success"
    assert view.locator("#wfo-progress").inner_text() == "100%"
    # Header and timeline give Airflow's run duration (what its run header shows).
    run_ms = _ms(run["start_date"], run["end_date"])
    assert view.locator("#wfo-duration").inner_text().startswith(f"{run_ms} ms"), run_ms
    assert view.locator("svg.wfo-gantt text[text-anchor=end]").first.text_content() == f"{run_ms} ms"
    rows = view.locator("#wfo-steps tr[data-step]")
    assert [rows.nth(i).get_attribute("data-step") for i in range(rows.count())] == list(STEPS)
    for step_id in STEPS:
        row = view.locator(f"#wfo-steps tr[data-step='{step_id}']")
        cells = row.locator("td")
        forward = cells.nth(1).locator("span.badge")
        assert (forward.inner_text(), forward.get_attribute("data-status")) == ("completed", "COMPLETED")
        assert cells.nth(2).inner_text() == "1"  # one attempt
        # The step's duration is the WorkflowResult's; under it, the attempt as Airflow timed it (its
        # Task Instances tab), which is also the timeline bar's: the step's work fits in its task, the
        # task in the run.
        step_ms = result.step(step_id).duration
        task_ms = _ms(tis[step_id]["start_date"], tis[step_id]["end_date"])
        assert step_ms is not None and step_ms <= task_ms <= run_ms, (step_id, step_ms, task_ms, run_ms)
        assert cells.nth(3).inner_text().startswith(f"{step_ms} ms"), step_id
        assert cells.nth(3).locator("[data-task-ms]").get_attribute("data-task-ms") == str(task_ms)
        bar = view.locator(f"svg.wfo-gantt g[data-step='{step_id}'] rect.wfo-bar")
        assert bar.count() == 1 and bar.get_attribute("data-state") == "success"
        assert f"attempt 1: success, Airflow task {task_ms} ms" in (bar.locator("title").text_content() or "")
    # The one compensation was not needed: nothing to undo in a completed run.
    undo = view.locator("#wfo-steps tr[data-step='create-notion'] td").nth(5)
    assert undo.inner_text() == "not needed"
    notify = view.locator("#wfo-steps tr[data-step='notify-attendees'] td").nth(5)
    assert notify.inner_text() == "no compensation"
    nodes = view.locator("svg.wfo-graph g.wfo-node").all()
    assert [n.get_attribute("data-state") for n in nodes] == ["success", "skipped", "success"]


def test_demo_then_demo_ui_a_newcomers_path(tmp_path: Path, airflow_db: Path) -> None:
    """The README's path: `scripts/demo`, then `scripts/demo --ui` on the same home: no DAG is paused,
    every port is 127.0.0.1:--port, a bad conf is refused; then in headless Chromium wfo_meeting is
    triggered from its form and completes, and its workflow view (the run page's **Workflow view** tab,
    and **Browse -> Workflows (wfo)**) shows it COMPLETED, step by step."""
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

    # Plain HTTP on purpose (not prebuilt/rest.py): this checks the demo as a browser or a user's curl
    # sees it, independently of our own client.
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
        # The panel points the newcomer at the workflow view.
        assert "Workflow view" in tail() and "Workflows (wfo)" in tail(), tail()
        # Nothing is paused, wfo_invoice (first written by `scripts/demo`) included.
        paused = requests.get(f"{url}/api/v2/dags", headers=headers, params={"paused": True}, timeout=10)
        assert [d["dag_id"] for d in paused.json()["dags"]] == []
        # Only the api-server listens, on loopback and the chosen port (no log server on 0.0.0.0).
        assert _listening(proc.pid) == {("127.0.0.1", port)}
        # A wrong type is refused by the api-server (the form would not let one through: its number
        # field drops letters, tests/prebuilt/test_trigger_form.py).
        bad = requests.post(
            f"{url}/api/v2/dags/wfo_meeting/dagRuns",
            headers=headers,
            json={"logical_date": None, "conf": {"title": "Retro", "duration": "sixty"}},
            timeout=30,
        )
        assert bad.status_code == 400, bad.text

        with chromium() as browser:
            page = new_page(browser, viewport={"width": 1400, "height": 1400})
            run_id = _trigger_from_the_form(page, url, tmp_path)
            run_path = f"{url}/api/v2/dags/wfo_meeting/dagRuns/{quote(run_id, safe='')}"
            created = requests.get(run_path, headers=headers, timeout=30).json()
            assert created["triggered_by"] == "ui" and created["conf"] == CONF, created
            deadline = time.monotonic() + 300
            while True:
                # A busy one-worker api-server on a loaded machine may miss one poll; the next counts.
                with contextlib.suppress(requests.RequestException):
                    run = requests.get(run_path, headers=headers, timeout=30).json()
                    if run["state"] in ("success", "failed"):
                        break
                assert time.monotonic() < deadline, tail()
                time.sleep(2)
            assert run["state"] == "success", (run, tail())
            listed = requests.get(f"{run_path}/taskInstances", headers=headers, timeout=30).json()
            tis = {ti["task_id"]: ti for ti in listed["task_instances"]}
            xcom = requests.get(
                f"{run_path}/taskInstances/workflow_result/xcomEntries/return_value",
                headers=headers,
                timeout=10,
            ).json()["value"]
            result = WorkflowResult.model_validate(json.loads(xcom) if isinstance(xcom, str) else xcom)
            assert result.status is WorkflowStatus.COMPLETED, (result, tail())

            # The run's page, where the form left the user (reloaded: the run has ended), has the
            # plugin's Workflow view tab.
            page.reload()
            page.get_by_text("Workflow view", exact=True).first.click()
            view = page.frame_locator("iframe[title='Workflow view']")
            _check_workflow_view(view, run, tis, result)
            page.screenshot(path=str(tmp_path / "workflow-view.png"), full_page=True)

            # Browse -> Workflows (wfo): the run is listed COMPLETED and its link opens the same view.
            page.goto(f"{url}/")
            page.get_by_role("button", name="Browse").first.click()
            page.get_by_role("menuitem", name="Workflows (wfo)").click()
            index = page.frame_locator("iframe[title='Workflows (wfo)']")
            listed_run = index.locator("#wfo-runs tr", has_text=run_id)
            assert listed_run.locator("span.badge").inner_text() == "COMPLETED"
            page.screenshot(path=str(tmp_path / "workflows-index.png"), full_page=True)
            listed_run.get_by_role("link").first.click()
            _check_workflow_view(index, run, tis, result)

        # Task logs are read from the shared log folder (no log server is started).
        logs = requests.get(
            f"{run_path}/taskInstances/workflow_result/logs/1",
            headers={**headers, "Accept": "application/json"},
            timeout=30,
        )
        assert logs.status_code == 200 and "workflow" in logs.text.lower(), logs.text[:2000]
        page_made = result.step("create-notion").result
        assert page_made is not None
        assert (home / "workspace" / "notion" / "pages" / f"{page_made.data['id']}.json").exists()
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
