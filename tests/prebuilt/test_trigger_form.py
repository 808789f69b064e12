"""Issue 11 item 6 and issue 12 case 4 at trigger time, on a real api-server (with the dag-processor
that parsed the DAGs): what the trigger form and the REST API really do with our pre-built params.

* A time of ``25:99`` passes Airflow's form (the form does not check ``pattern``) and the api-server
  answers 400 with the param's ``patternMessage``, not the raw regex.
* A catastrophic pattern (``(a|aa)+$``) with a 61-character value is answered at once: the api-server
  checks ``pattern`` on RE2 (the params dialect, registered by the plugin).
* The form in headless Chromium: a screenshot and the page are kept (``trigger-form.png`` and
  ``trigger-form.html`` in the test's home) and the facts docs/prebuilt.md states are asserted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from wfo_browser import chromium, new_page

from .airflow_services import AirflowServices, airflow_services

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOADER = "from airflow_provider_wfo import load_workflow_dags\n\nload_workflow_dags(globals())\n"
HOSTILE = {
    "id": "form_redos", "name": "ReDoS at trigger time",
    "params": {"code": {"type": "string", "pattern": "(a|aa)+$", "default": "aa"}},
    "steps": [{"id": "a", "target": "slack", "action": "send_notification",
               "params": {"channel": "x", "message": "$code"}}],
}
MEETING = {"title": "Sprint planning", "date": "2025-03-01", "time": "25:99", "duration": 60,
           "attendees": ["a@example.com"], "agenda": "Plan"}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServices]:
    root = tmp_path_factory.mktemp("trigger-form")
    dags = root / "dags"
    (dags / "workflows").mkdir(parents=True)
    shutil.copy(REPO / "dags" / "wfo_prebuilt.py", dags / "wfo_prebuilt.py")
    (dags / "workflows" / "load.py").write_text(LOADER)
    (dags / "workflows" / "form_redos.json").write_text(json.dumps(HOSTILE))
    with airflow_services(root / "home", dags, components=("api-server", "dag-processor")) as s:
        for dag_id in ("wfo_meeting", "wfo_bug_report", "form_redos"):
            s.wait_for_dag(dag_id)
        yield s


def _trigger(services: AirflowServices, dag_id: str, conf: dict[str, Any]) -> requests.Response:
    # A timeout, not a timing threshold: a backtracking check would hold the request for hours.
    return requests.post(
        f"{services.url}/api/v2/dags/{dag_id}/dagRuns",
        json={"logical_date": None, "conf": conf},
        headers={"Authorization": f"Bearer {services.token()}"},
        timeout=60,
    )


def test_a_bad_time_is_answered_with_the_params_message(services: AirflowServices) -> None:
    response = _trigger(services, "wfo_meeting", MEETING)
    assert response.status_code == 400, response.text
    detail = str(response.json()["detail"])
    assert "Invalid input for param time: '25:99': not a time: write HH:MM" in detail
    assert "[0-5][0-9]" not in detail  # no raw regex, no schema dump


def test_a_catastrophic_pattern_is_checked_in_linear_time(services: AirflowServices) -> None:
    response = _trigger(services, "form_redos", {"code": "a" * 60 + "!"})
    assert response.status_code == 400, response.text
    assert "does not match" in str(response.json()["detail"])
    assert _trigger(services, "form_redos", {"code": "a" * 61}).status_code == 200


def test_the_trigger_form_in_headless_chromium(services: AirflowServices) -> None:
    with chromium() as browser:
        page = new_page(browser, viewport={"width": 1400, "height": 2200})
        page.goto(f"{services.url}/dags/wfo_meeting")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Duration").first.wait_for(timeout=60_000)
        page.screenshot(path=str(services.home / "trigger-form.png"), full_page=True)
        (services.home / "trigger-form.html").write_text(page.content())
        text = dialog.inner_text()
        labels = ("Title", "Date", "Time", "Duration", "Attendees", "Agenda", "Notion database")
        for label in labels:
            assert f"{label}\n*" in text, label  # every typed param is marked required
        # the six without a default start with "required"; the pre-filled Notion database does not
        assert text.count("This field is required") == 6
        assert "ID of the Notion meetings database\nThis field is required" not in text
        # the descriptions (with the time's format) are shown under the fields
        assert "10:00 AM or 14:30" in text
        # a `format: date` param is the browser's date input, shown in the browser's own date
        # format (mm/dd/yyyy here), which is why the description names YYYY-MM-DD for run conf only
        assert dialog.locator("[name=element_date]").get_attribute("type") == "date"
        assert "pick it in the form (shown in your browser's date format)" in text
        # duration is a number field: letters typed into it are dropped
        duration = dialog.get_by_role("spinbutton").first
        duration.fill("")
        duration.press_sequentially("sixty")
        assert duration.input_value() == ""
        # a number below the minimum is raised to it when the field loses focus: 0 becomes 1
        duration.press_sequentially("0")
        duration.press("Tab")
        page.wait_for_timeout(500)
        assert duration.input_value() == "1"
