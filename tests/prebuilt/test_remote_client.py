"""The REST client (prebuilt/remote.py) against a real Airflow api-server + scheduler + dag-processor.

The probe DAG's ``workflow_result`` task returns a WorkflowResult-shaped dict, so this checks trigger,
poll, XCom read-back and the params refusal without depending on the DAG factory; the pre-built
workflows themselves go through the same path in test_rest_prebuilt.py.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from airflow_provider_wfo.prebuilt.remote import (
    AirflowClient,
    AirflowDeployment,
    RemoteWorkflowError,
    RemoteWorkflowTimeout,
    run_remote,
)
from airflow_provider_wfo.results import StepStatus, WorkflowStatus

from .airflow_services import AirflowServices, airflow_services

#: The probe deployment has a user (POST /auth/token); the pre-built REST tests use all-admins mode.
CREDENTIALS = ("wfo-tester", "pr0be-s3cret")

PROBE = textwrap.dedent(
    '''
    """Probe DAG for the REST client test (airflow)."""
    import time

    from airflow.sdk import DAG, Param, task

    with DAG(
        "wfo_rest_probe",
        schedule=None,
        params={"n": Param(1, type="integer", minimum=0), "sleep": Param(0, type="number")},
    ) as dag:

        @task(task_id="workflow_result")
        def workflow_result(params=None, dag_run=None):
            time.sleep(params["sleep"])
            return {
                "workflowId": "wfo_rest_probe",
                "workflowName": "Probe",
                "status": "COMPLETED",
                "steps": [
                    {
                        "stepId": "echo",
                        "stepName": "Echo",
                        "status": "COMPLETED",
                        "result": {"success": True, "data": {"n": params["n"], "conf": dag_run.conf}},
                    }
                ],
                "progress": {
                    "currentStep": 1, "totalSteps": 1, "completedSteps": 1, "failedSteps": 0,
                    "status": "COMPLETED", "percentComplete": 100,
                },
                "success": True,
                "dagId": dag_run.dag_id,
                "runId": dag_run.run_id,
            }

        workflow_result()
    '''
)


@pytest.fixture(scope="module")
def probe_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServices]:
    root = tmp_path_factory.mktemp("rest-probe")
    dags = root / "dags"
    dags.mkdir()
    (dags / "wfo_rest_probe.py").write_text(PROBE)
    with airflow_services(root / "home", dags, credentials=CREDENTIALS) as services:
        services.wait_for_dag("wfo_rest_probe")
        yield services


def test_trigger_wait_and_read_result(probe_airflow: AirflowServices) -> None:
    deployment = AirflowDeployment(
        url=probe_airflow.url, username=CREDENTIALS[0], password=CREDENTIALS[1], poll_interval=1, timeout=300
    )
    result = run_remote("wfo_rest_probe", {"n": 7, "extra": "x"}, deployment)
    assert result.status is WorkflowStatus.COMPLETED
    assert result.success
    step = result.step("echo")
    assert step.status is StepStatus.COMPLETED
    assert step.result is not None
    assert step.result.data == {"n": 7, "conf": {"n": 7, "extra": "x"}}
    assert result.dag_id == "wfo_rest_probe"
    assert result.run_id and result.run_id.startswith("wfo__")


def test_conf_breaking_the_params_schema_is_refused(probe_airflow: AirflowServices) -> None:
    deployment = AirflowDeployment(
        url=probe_airflow.url, username=CREDENTIALS[0], password=CREDENTIALS[1], poll_interval=1, timeout=60
    )
    with pytest.raises(RemoteWorkflowError) as info:
        run_remote("wfo_rest_probe", {"n": "seven"}, deployment)
    assert info.value.status_code == 400
    assert "seven" in str(info.value) or "integer" in str(info.value)


def test_unknown_dag_and_bad_token(probe_airflow: AirflowServices) -> None:
    deployment = AirflowDeployment(
        url=probe_airflow.url, username=CREDENTIALS[0], password=CREDENTIALS[1], poll_interval=1, timeout=60
    )
    with pytest.raises(RemoteWorkflowError) as info:
        run_remote("no_such_dag", {}, deployment)
    assert info.value.status_code == 404
    # A stale token is exchanged once for a new one (all-admins mode hands one out).
    client = AirflowClient(
        AirflowDeployment(url=probe_airflow.url, username=CREDENTIALS[0], password=CREDENTIALS[1])
    )
    client._token = "not-a-jwt"
    assert client.get_dag("wfo_rest_probe")["dag_id"] == "wfo_rest_probe"


def test_timeout_names_the_run(probe_airflow: AirflowServices) -> None:
    deployment = AirflowDeployment(
        url=probe_airflow.url, username=CREDENTIALS[0], password=CREDENTIALS[1], poll_interval=0.5, timeout=1
    )
    with pytest.raises(RemoteWorkflowTimeout) as info:
        run_remote("wfo_rest_probe", {"sleep": 20}, deployment)
    assert info.value.dag_id == "wfo_rest_probe"
    assert info.value.run_id.startswith("wfo__")
    assert info.value.run_id in str(info.value)


def test_deployment_from_env() -> None:
    assert AirflowDeployment.from_env({}) is None
    d = AirflowDeployment.from_env(
        {
            "WFO_AIRFLOW_URL": "http://airflow:8080/",
            "WFO_AIRFLOW_USERNAME": "u",
            "WFO_AIRFLOW_PASSWORD": "s3cr3t-pw",
            "WFO_AIRFLOW_TIMEOUT": "30",
            "WFO_AIRFLOW_VERIFY": "false",
            "WFO_AIRFLOW_STAGING_DIR": "/shared/inbox",
        }
    )
    assert d is not None
    assert (d.url, d.username, d.password, d.timeout, d.verify, d.staging_dir) == (
        "http://airflow:8080/",
        "u",
        "s3cr3t-pw",
        30.0,
        False,
        "/shared/inbox",
    )
    assert "s3cr3t-pw" not in repr(d)


def test_credentials_and_tokens(probe_airflow: AirflowServices) -> None:
    wrong = AirflowClient(AirflowDeployment(url=probe_airflow.url, username=CREDENTIALS[0], password="nope"))
    with pytest.raises(RemoteWorkflowError) as info:
        wrong.get_dag("wfo_rest_probe")
    assert info.value.status_code in (401, 403)
    assert "WFO_AIRFLOW_USERNAME" in str(info.value)
    assert "nope" not in str(info.value)
    # A token given as is (WFO_AIRFLOW_TOKEN) is used, and never swapped for another.
    token = probe_airflow.token()
    given = AirflowClient(AirflowDeployment(url=probe_airflow.url, token=token))
    assert given.get_dag("wfo_rest_probe")["dag_id"] == "wfo_rest_probe"
    bad = AirflowClient(AirflowDeployment(url=probe_airflow.url, token="not-a-jwt"))
    with pytest.raises(RemoteWorkflowError) as info:
        bad.get_dag("wfo_rest_probe")
    assert info.value.status_code in (401, 403)
    # Without credentials, a deployment with users refuses to hand out a token.
    anonymous = AirflowClient(AirflowDeployment(url=probe_airflow.url))
    with pytest.raises(RemoteWorkflowError, match="refused to issue a token"):
        anonymous.get_dag("wfo_rest_probe")
