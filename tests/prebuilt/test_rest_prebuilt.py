"""The REST path of handle_*: a real Airflow deployment (api-server, scheduler with LocalExecutor,
dag-processor; SQLite; SimpleAuthManager all-admins) started by this module on a temporary
AIRFLOW_HOME with the package's ``dags/wfo_prebuilt.py``. The same WorkflowResult comes back as from a
local run, read from the ``workflow_result`` task's XCom.

The deployment's Trello connection points at a dead endpoint, so the report workflow (Drive, then
Trello) exercises the rollback through the scheduler too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo import StepStatus, WorkflowResult, WorkflowStatus
from airflow_provider_wfo.prebuilt import api
from airflow_provider_wfo.prebuilt.remote import AirflowDeployment, RemoteWorkflowError

from .airflow_services import AirflowServices, airflow_services, free_port
from .seed_examples import SEED_AGENDA

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PDF = REPO / "examples" / "sample-invoice.pdf"
DAG_IDS = ("wfo_invoice", "wfo_bug_report", "wfo_meeting", "wfo_report")


def _local(workspace: Path) -> str:
    return json.dumps({"conn_type": "wfo_local", "extra": {"workspace": str(workspace)}})


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowServices, Path]]:
    root = tmp_path_factory.mktemp("rest-prebuilt")
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(REPO / "dags" / "wfo_prebuilt.py", dags / "wfo_prebuilt.py")
    workspace = root / "workspace"
    (workspace / "inbox").mkdir(parents=True)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {f"AIRFLOW_CONN_WFO_{t.upper()}": _local(workspace) for t in ("drive", "sheets", "slack", "notion")}
    env["AIRFLOW_CONN_WFO_TRELLO"] = json.dumps(
        {"conn_type": "wfo_trello", "host": dead, "login": "key", "password": "token"}
    )
    env["WFO_WORKSPACE"] = str(workspace)
    with airflow_services(root / "home", dags, env) as services:
        for dag_id in DAG_IDS:
            services.wait_for_dag(dag_id)
        yield services, workspace


def _remote(services: AirflowServices, workspace: Path) -> AirflowDeployment:
    return AirflowDeployment(
        url=services.url, poll_interval=1, timeout=420, staging_dir=str(workspace / "inbox")
    )


def _shape(result: WorkflowResult) -> dict[str, Any]:
    """What must be equal between a local and a remote run (ids, times and links differ)."""
    return {
        "workflowId": result.workflow_id,
        "workflowName": result.workflow_name,
        "status": result.status,
        "success": result.success,
        "rollbackPerformed": result.rollback_performed,
        "failedStep": result.failed_step,
        "steps": [(s.step_id, s.step_name, s.status, s.rolled_back, s.optional) for s in result.steps],
        "progress": (
            result.progress.total_steps,
            result.progress.completed_steps,
            result.progress.failed_steps,
        ),
    }


INVOICE = {
    "file_name": "Invoice-Acme-2025-001.pdf",
    "vendor": "Acme Corporation",
    "amount": 1500.00,
    "due_date": "2025-02-15",
    "spreadsheet_id": "rest-invoices",
}


def test_invoice_over_rest_equals_local(deployment: tuple[AirflowServices, Path], airflow_db: Path) -> None:
    services, workspace = deployment
    remote = api.handle_invoice(
        file_buffer=SAMPLE_PDF.read_bytes(), deployment=_remote(services, workspace), **INVOICE
    )
    assert remote.status is WorkflowStatus.COMPLETED, (remote, services.log_tail())
    assert remote.dag_id == "wfo_invoice" and remote.run_id
    filed = remote.step("file-drive").result
    assert filed is not None
    assert (workspace / "drive" / "Invoices" / filed.data["name"]).read_bytes() == SAMPLE_PDF.read_bytes()
    rows = (workspace / "sheets" / "rest-invoices").rglob("*.csv")
    assert any("Acme Corporation" in p.read_text() for p in rows)

    local = api.handle_invoice(file_buffer=SAMPLE_PDF.read_bytes(), deployment="local", **INVOICE)
    assert _shape(remote) == _shape(local)
    assert remote.step("update-sheet").result is not None and local.step("update-sheet").result is not None
    assert set(remote.step("update-sheet").result.data) == set(local.step("update-sheet").result.data)


def test_meeting_over_rest(deployment: tuple[AirflowServices, Path]) -> None:
    services, workspace = deployment
    result = api.handle_meeting(
        title="Q1 Sprint Planning",
        date="2025-01-20",
        time="10:00 AM",
        duration=60,
        attendees=["john@example.com", "jane@example.com", "bob@example.com"],
        agenda=SEED_AGENDA,
        deployment=_remote(services, workspace),
    )
    assert result.status is WorkflowStatus.COMPLETED, (result, services.log_tail())
    page = result.step("create-notion").result
    assert page is not None
    assert (workspace / "notion" / "pages" / f"{page.data['id']}.json").exists()


def test_report_rolls_back_over_rest(deployment: tuple[AirflowServices, Path]) -> None:
    services, workspace = deployment
    result = api.handle_report(
        file_name="Q4-2024-Financial-Report.pdf",
        file_buffer=SAMPLE_PDF.read_bytes(),
        report_type="Quarterly Financial Report",
        stakeholders=["ceo@example.com", "cfo@example.com"],
        due_date="2025-01-31",
        deployment=_remote(services, workspace),
    )
    assert result.status is WorkflowStatus.ROLLED_BACK, (result, services.log_tail())
    assert result.failed_step == "create-review-task"
    assert result.step("create-review-task").status is StepStatus.FAILED
    assert result.step("create-review-task").attempts == 3  # retryCount 2: Airflow retried it
    filed = result.step("file-report")
    assert filed.rolled_back and filed.result is not None
    assert not (workspace / "drive" / "Reports" / filed.result.data["name"]).exists()
    assert result.step("notify-stakeholders").status is StepStatus.SKIPPED


def test_wrong_conf_is_refused_by_airflow(deployment: tuple[AirflowServices, Path]) -> None:
    # handle_* checks the conf first; a raw trigger with a wrong type is refused by Airflow itself.
    from airflow_provider_wfo.prebuilt.remote import run_remote

    services, workspace = deployment
    with pytest.raises(RemoteWorkflowError) as info:
        run_remote(
            "wfo_meeting",
            {
                "title": "t",
                "date": "2025-01-20",
                "time": "10:00",
                "duration": "sixty",
                "attendees": ["a"],
                "agenda": "",
            },
            _remote(services, workspace),
        )
    assert info.value.status_code == 400
    assert "sixty" in str(info.value)
