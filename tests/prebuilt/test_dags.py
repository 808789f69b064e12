"""DagBag integrity of dags/wfo_prebuilt.py and dags/workflows/weekly_report.json: no import errors,
the seed's steps as tasks with their compensations, and the params that the trigger form is built from
(as serialized for the UI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
WEEKLY = REPO / "dags" / "workflows" / "weekly_report.json"

EXPECTED_TASKS = {
    "wfo_invoice": {
        "file-drive", "approve-payment", "update-sheet", "notify-accounting", "compensate.file-drive"
    },
    "wfo_bug_report": {"create-card", "notify-devs", "page-on-call", "track-sheet", "compensate.create-card"},
    "wfo_meeting": {"create-notion", "notify-attendees", "compensate.create-notion"},
    "wfo_report": {
        "file-report",
        "create-review-task",
        "notify-stakeholders",
        "compensate.file-report",
        "compensate.create-review-task",
    },
}


@pytest.fixture(scope="module")
def prebuilt_bag(airflow_db: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags" / "wfo_prebuilt.py"))


def test_prebuilt_dags_load(prebuilt_bag: Any) -> None:
    assert prebuilt_bag.import_errors == {}
    assert set(prebuilt_bag.dags) == set(EXPECTED_TASKS)
    for dag_id, tasks in EXPECTED_TASKS.items():
        dag = prebuilt_bag.dags[dag_id]
        assert tasks | {"saga_decision", "workflow_result"} == set(dag.task_ids), dag_id
        assert dag.timetable.can_be_scheduled is False  # manual: triggered from the form, REST or handle_*


def test_compensation_order_of_the_report(prebuilt_bag: Any) -> None:
    dag = prebuilt_bag.dags["wfo_report"]
    # The card is deleted before the report it links to.
    assert "compensate.create-review-task" in dag.get_task("compensate.file-report").upstream_task_ids


def test_serialized_params_drive_the_form(prebuilt_bag: Any) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    def params(dag_id: str) -> dict[str, Any]:
        # What the api-server (and so the trigger form) sees: the DAG after a serialization round trip.
        dag = DagSerialization.from_dict(DagSerialization.to_dict(prebuilt_bag.dags[dag_id]))
        out: dict[str, Any] = {}
        for name in dag.params:
            param = dag.params.get_param(name)
            out[name] = {"schema": param.schema, "description": param.description, "value": param.value}
        return out

    meeting = params("wfo_meeting")
    assert meeting["date"]["schema"]["format"] == "date"
    assert meeting["duration"]["schema"]["type"] == "integer"
    assert meeting["attendees"]["schema"]["type"] == "array"
    assert meeting["title"]["description"]
    bug = params("wfo_bug_report")
    assert bug["severity"]["schema"]["enum"] == ["Low", "Medium", "High", "Critical"]
    assert bug["listId"]["value"] == "bug-backlog"
    assert params("wfo_invoice")["amount"]["schema"]["type"] == "number"
    # every param schema carries the params dialect (pattern on RE2 in the api-server)
    assert meeting["time"]["schema"]["$schema"] == "urn:airflow-provider-wfo:params-schema:2020-12-re2"


def test_a_bad_time_gets_the_params_message_where_the_api_server_checks(prebuilt_bag: Any) -> None:
    """What POST .../dagRuns does with the conf (validate_context -> params.validate()), on the
    serialized DAG: the 400's text is the param's patternMessage, not the raw regex."""
    from airflow.exceptions import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(prebuilt_bag.dags["wfo_meeting"]))
    conf = {"title": "Sprint planning", "date": "2025-03-01", "time": "25:99", "duration": 60,
            "attendees": ["a@example.com"], "agenda": "Plan"}
    with pytest.raises(ParamValidationError) as caught:
        dag.params.deep_merge(conf).validate()
    assert str(caught.value) == (
        "Invalid input for param time: '25:99': not a time: write HH:MM (00:00 to 23:59), optionally "
        "with AM or PM, e.g. 10:00 AM or 14:30"
    )
    assert dag.params.deep_merge({**conf, "time": "10:00 AM"}).validate()["time"] == "10:00 AM"


@pytest.mark.skipif(not WEEKLY.exists(), reason="dags/workflows/weekly_report.json not shipped yet")
def test_weekly_report_is_scheduled(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_wfo.definition.loading import load_workflow_from_json

    defn = load_workflow_from_json(WEEKLY)
    assert defn.schedule == "0 8 * * 1" and defn.catchup is False
    assert all("default" in schema for schema in defn.params.values())
    bag = DagBag(dag_folder=str(REPO / "dags" / "wfo_workflows.py"))
    assert not any("weekly_report" in str(error) for error in bag.import_errors.values()), bag.import_errors
    dag = bag.dags["wfo_weekly_report"]
    assert dag.timetable.can_be_scheduled
    assert "0 8 * * 1" in repr(dag.timetable)


@pytest.mark.slow
@pytest.mark.skipif(not WEEKLY.exists(), reason="dags/workflows/weekly_report.json not shipped yet")
def test_weekly_report_runs_without_conf(run_workflow: Any, airflow_home: Path) -> None:
    import json

    from airflow_provider_wfo import WorkflowStatus

    result = run_workflow(WEEKLY)
    assert result.status is WorkflowStatus.COMPLETED, result
    filed = result.step("file-report").result.data
    card = result.step("create-review-task").result.data
    assert filed["folder"] == "Reports"
    stored = json.loads((airflow_home / "workspace" / "trello" / "cards" / f"{card['id']}.json").read_text())
    if "${run.date}" in WEEKLY.read_text():
        # Each week's file and card carry the run's date.
        assert filed["name"].startswith("Weekly-Operations-Report-20")
        day = filed["name"].removeprefix("Weekly-Operations-Report-").removesuffix(".md")
        assert stored["name"] == f"Review: Weekly Operations Report ({day})"
    else:
        assert filed["name"].startswith("Weekly-Operations-Report")
        assert stored["name"] == "Review: Weekly Operations Report"
