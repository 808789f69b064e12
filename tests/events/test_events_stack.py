"""Events, trace and the workflow view against a real deployment: api-server, scheduler and
dag-processor processes, each task in its own worker process (LocalExecutor), SQLite.

The event sequences must equal the ``dag.test`` ones: ``workflow:*`` events come from the scheduler,
step events from the worker processes, all written by the configured JSON-lines sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from test_events_dagtest import COMMIT, ROLLBACK
from wfo_browser import UI_TIMEOUT_MS, chromium
from wfo_events_helpers import CONF, SECRET, saga_defn
from wfo_events_stack import PASSWORD, USER, Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("wfo-events-stack")
    template = Path(os.environ.get("WFO_TEST_CACHE", "/tmp/wfo-test-cache"))
    db = next(iter(sorted(template.glob("airflow-*.db"))), airflow_db) if template.exists() else airflow_db
    definitions = [saga_defn("ev_stack_commit", fail_b=False), saga_defn("ev_stack_rollback", fail_b=True)]
    s = Stack(home, db, definitions)
    try:
        s.start()
        s.wait_for_dag("ev_stack_commit")
        s.wait_for_dag("ev_stack_rollback")
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def runs(stack: Stack) -> dict[str, str]:
    commit = stack.trigger("ev_stack_commit", CONF)
    rollback = stack.trigger("ev_stack_rollback", CONF)
    assert stack.wait_for_run("ev_stack_commit", commit) == "success"
    assert stack.wait_for_run("ev_stack_rollback", rollback) == "failed"
    return {"commit": commit, "rollback": rollback}


def _keys(events: list[dict[str, Any]]) -> list[tuple[str, str | None, int | None]]:
    return [(e["type"], e.get("taskId"), e.get("attempt")) for e in events]


def test_event_sequences_under_the_scheduler(stack: Stack, runs: dict[str, str]) -> None:
    commit = stack.events(runs["commit"])
    assert _keys(commit) == COMMIT
    assert commit[-1]["status"] == "COMPLETED"
    percents = [e["progress"]["percentComplete"] for e in commit if e["type"] == "workflow:progress"]
    assert percents == [33, 66, 100]
    assert commit[2]["params"] == {"order": "O-17", "password": "***"}

    rollback = stack.events(runs["rollback"])
    assert _keys(rollback) == ROLLBACK
    by_type = {e["type"]: e for e in rollback}
    assert by_type["step:retrying"]["error"] == "ActionError: b: planned failure"
    assert by_type["step:rolled_back"]["stepId"] == "a"
    assert by_type["rollback:completed"]["status"] == "ROLLED_BACK"
    assert by_type["workflow:failed"]["status"] == "ROLLED_BACK"
    assert SECRET not in stack.events_file.read_text()


def test_trace_over_http_matches_the_events(stack: Stack, runs: dict[str, str]) -> None:
    path = f"/wfo/api/dags/ev_stack_rollback/runs/{quote(runs['rollback'], safe='')}/trace"
    assert stack.request("GET", path, auth=False)[0] == 401
    status, trace = stack.request("GET", path)
    assert status == 200, trace
    assert [(e["type"], e.get("taskId"), e.get("attempt")) for e in trace["events"]] == ROLLBACK
    assert trace["status"] == "ROLLED_BACK"
    b = trace["steps"][1]
    assert [a["attempt"] for a in b["attempts"]] == [1, 2]
    assert SECRET not in str(trace)
    # The view is registered in the Airflow UI (an external view on dag runs, and one in the nav).
    status, plugins = stack.request("GET", "/api/v2/plugins")
    assert status == 200
    wfo = [p for p in plugins["plugins"] if p["name"] == "wfo"]
    assert len(wfo) == 1
    assert {v["url_route"] for v in wfo[0]["external_views"]} == {"wfo", "wfo-run"}
    # The outcome is the run's note (set by the listener in the scheduler), shown by Airflow's UI.
    run_path = f"/api/v2/dags/ev_stack_rollback/dagRuns/{quote(runs['rollback'], safe='')}"
    status, run = stack.request("GET", run_path)
    assert status == 200 and run["note"].startswith("wfo: ROLLED_BACK - step 'b' failed: ActionError")


def test_workflow_view_in_headless_chromium(stack: Stack, runs: dict[str, str]) -> None:
    url = f"{stack.url}/wfo/dags/ev_stack_rollback/runs/{quote(runs['rollback'], safe='')}"
    trace_path = f"/wfo/api/dags/ev_stack_rollback/runs/{quote(runs['rollback'], safe='')}/trace"
    trace = stack.request("GET", trace_path)[1]
    with chromium() as browser:
        anonymous = browser.new_context()
        response = anonymous.new_page().goto(url)
        assert response is not None and response.status in (401, 403)
        anonymous.close()

        context = browser.new_context()
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        # Log in through Airflow's own login page (SimpleAuthManager), then open the view.
        page.goto(f"{stack.url}/auth/login?next={quote(url, safe='')}")
        page.locator("input[name=username], input#username").first.fill(USER)
        page.locator("input[type=password]").first.fill(PASSWORD)
        page.locator("button[type=submit]").first.click()
        page.wait_for_function("() => document.cookie !== '' || location.pathname !== '/auth/login'",
                               timeout=60_000)
        page.wait_for_timeout(1000)
        response = page.goto(url)
        assert response is not None and response.status == 200, response and response.status
        page.screenshot(path=str(stack.home / "wfo-view.png"), full_page=True)
        assert page.locator("#wfo-status").inner_text() == "ROLLED_BACK"
        rows = page.locator("#wfo-steps tr[data-step]")
        assert rows.count() == 3
        texts = [rows.nth(i).inner_text() for i in range(3)]
        assert "Create record" in texts[0] and "rolled back" in texts[0]
        assert "Notify" in texts[1] and "failed" in texts[1] and "planned failure" in texts[1]
        assert "Track" in texts[2]
        assert page.locator("svg.wfo-gantt rect.wfo-bar").count() >= 4
        assert page.locator("svg.wfo-graph g.wfo-node").count() == 4
        # A rolled-back run is over: 100 %, with one bar segment per outcome (not a 66 % bar).
        assert page.locator("#wfo-progress").inner_text() == "100%"
        segments = page.locator("#wfo-bar span.seg")
        assert [segments.nth(i).get_attribute("data-status") for i in range(segments.count())] == [
            "ROLLED_BACK", "FAILED", "SKIPPED"]
        assert page.locator("#wfo-duration").inner_text().startswith(f"{trace['duration']} ms")
        page.goto(f"{stack.url}/wfo/")
        row = page.locator("#wfo-runs tr", has_text=runs["rollback"])
        assert row.locator("span.badge").inner_text() == "ROLLED_BACK"
        assert SECRET not in page.content()
        context.close()
