"""Run a workflow DAG on an Airflow deployment through its public REST API (Airflow 3, ``/api/v2``).

The deployment does the work (its scheduler, executor and workers); this module only triggers a run
with the workflow's conf, waits for the run to finish, and reads back the ``WorkflowResult`` that the
``workflow_result`` task pushed as XCom -- the same object a local run returns.

Configuration comes from arguments or from the environment:

==========================  =====================================================================
``WFO_AIRFLOW_URL``         base URL of the api-server, e.g. ``http://airflow.internal:8080``
``WFO_AIRFLOW_TOKEN``       a JWT (or other bearer token) to send as is, or
``WFO_AIRFLOW_USERNAME``    user and password exchanged for a JWT at ``POST /auth/token``;
``WFO_AIRFLOW_PASSWORD``    with neither, ``GET /auth/token`` (SimpleAuthManager all-admins mode)
``WFO_AIRFLOW_TIMEOUT``     seconds to wait for a run (default 600)
``WFO_AIRFLOW_VERIFY``      ``false`` to skip TLS verification, or a CA bundle path (default true)
``WFO_AIRFLOW_STAGING_DIR`` folder the deployment's workers can read, where ``handle_*`` stages
                            file bytes before a remote run (a shared volume, NFS, a fuse mount)
==========================  =====================================================================
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wfo.prebuilt.rest import AirflowApiError, AirflowRest
from airflow_provider_wfo.results import WorkflowResult
from airflow_provider_wfo.saga.names import RESULT_TASK_ID
from airflow_provider_wfo.saga.names import RETURN_KEY as RESULT_XCOM_KEY

DEFAULT_TIMEOUT_S = 600.0
_FINISHED = frozenset({"success", "failed"})


class RemoteWorkflowError(AirflowApiError):
    """The deployment refused the request, or the run ended without a WorkflowResult."""


class RemoteWorkflowTimeout(RemoteWorkflowError, TimeoutError):
    """The run did not finish in time. It goes on in Airflow; ``run_id`` says which one to look at."""

    def __init__(self, message: str, *, dag_id: str, run_id: str, state: str | None) -> None:
        super().__init__(message)
        self.dag_id = dag_id
        self.run_id = run_id
        self.state = state


def _env_verify(value: str | None) -> bool | str:
    if value is None or value.strip().lower() in {"", "1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    return value


@dataclass(frozen=True)
class AirflowDeployment:
    """Where and how to reach an Airflow 3 api-server."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    poll_interval: float = 2.0
    verify: bool | str = True
    staging_dir: str | None = None
    #: Seconds for one HTTP request (not the run).
    request_timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AirflowDeployment | None:
        """The deployment configured by ``WFO_AIRFLOW_*`` variables, or None when none is."""
        env = os.environ if env is None else env
        url = env.get("WFO_AIRFLOW_URL", "").strip()
        if not url:
            return None
        timeout = env.get("WFO_AIRFLOW_TIMEOUT", "").strip()
        return cls(
            url=url,
            username=env.get("WFO_AIRFLOW_USERNAME") or None,
            password=env.get("WFO_AIRFLOW_PASSWORD") or None,
            token=env.get("WFO_AIRFLOW_TOKEN") or None,
            timeout=float(timeout) if timeout else DEFAULT_TIMEOUT_S,
            verify=_env_verify(env.get("WFO_AIRFLOW_VERIFY")),
            staging_dir=env.get("WFO_AIRFLOW_STAGING_DIR") or None,
        )


class AirflowClient(AirflowRest):
    """The REST client (``prebuilt/rest.py``) configured from an :class:`AirflowDeployment`."""

    error = RemoteWorkflowError

    def __init__(self, deployment: AirflowDeployment) -> None:
        super().__init__(
            deployment.url,
            username=deployment.username,
            password=deployment.password,
            token=deployment.token,
            verify=deployment.verify,
            request_timeout=deployment.request_timeout,
        )
        self.deployment = deployment

    def unpause(self, dag_id: str) -> None:
        self.set_paused(dag_id, False)

    def get_xcom(self, dag_id: str, run_id: str, task_id: str, key: str = RESULT_XCOM_KEY) -> Any:
        return self.xcom(dag_id, run_id, task_id, key)

    def wait(
        self,
        dag_id: str,
        run_id: str,
        timeout: float,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while True:
            run = self.get_run(dag_id, run_id)
            if on_poll is not None:
                on_poll(run)
            if run.get("state") in _FINISHED:
                return run
            if time.monotonic() >= deadline:
                raise RemoteWorkflowTimeout(
                    f"run {run_id} of {dag_id} did not finish within {timeout:g} s (state "
                    f"{run.get('state')!r}); it goes on in Airflow: {self.base}/dags/{dag_id}/runs/{run_id}",
                    dag_id=dag_id,
                    run_id=run_id,
                    state=run.get("state"),
                )
            time.sleep(self.deployment.poll_interval)


def run_remote(
    dag_id: str,
    conf: Mapping[str, Any],
    deployment: AirflowDeployment,
    *,
    timeout: float | None = None,
    unpause: bool = False,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
    client: AirflowClient | None = None,
) -> WorkflowResult:
    """Trigger ``dag_id`` with ``conf``, wait for it, and return its WorkflowResult.

    A conf that breaks the DAG's params schema is refused by Airflow before any run is created;
    that refusal is raised as :class:`RemoteWorkflowError` carrying Airflow's message. A paused DAG
    would leave the run queued forever, so it is reported unless ``unpause`` is true.
    """
    client = client or AirflowClient(deployment)
    try:
        dag = client.get_dag(dag_id)
    except RemoteWorkflowError as exc:
        if exc.status_code != 404:
            raise
        raise RemoteWorkflowError(
            f"Airflow at {client.base} has no DAG {dag_id!r}: is dags/wfo_prebuilt.py (or the workflow's "
            "definition) in its dags folder, and parsed without import errors?",
            status_code=404,
            detail=exc.detail,
        ) from exc
    if dag.get("is_paused"):
        if not unpause:
            raise RemoteWorkflowError(
                f"DAG {dag_id} is paused on {client.base}: a run would wait forever. Unpause it in the "
                "UI, or pass unpause=True"
            )
        client.unpause(dag_id)
    run_id = client.trigger(
        dag_id, conf, run_id=f"wfo__{time.strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"
    )
    run = client.wait(dag_id, run_id, deployment.timeout if timeout is None else timeout, on_poll)
    try:
        value = client.get_xcom(dag_id, run_id, RESULT_TASK_ID)
    except RemoteWorkflowError as exc:
        raise RemoteWorkflowError(
            f"run {run_id} of {dag_id} ended {run.get('state')!r} without a WorkflowResult "
            f"(task {RESULT_TASK_ID!r} pushed none): {exc}",
            status_code=exc.status_code,
            detail=exc.detail,
        ) from exc
    if not isinstance(value, dict):
        raise RemoteWorkflowError(f"run {run_id} of {dag_id}: XCom {RESULT_TASK_ID} is not a WorkflowResult")
    return WorkflowResult.model_validate(value)
