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

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from airflow_provider_wfo.results import WorkflowResult
from airflow_provider_wfo.saga.names import RESULT_TASK_ID
from airflow_provider_wfo.saga.names import RETURN_KEY as RESULT_XCOM_KEY

DEFAULT_TIMEOUT_S = 600.0
_FINISHED = frozenset({"success", "failed"})


class RemoteWorkflowError(RuntimeError):
    """The deployment refused the request, or the run ended without a WorkflowResult."""

    def __init__(self, message: str, *, status_code: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


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


def _detail(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:2000]
    return body.get("detail", body) if isinstance(body, dict) else body


class AirflowClient:
    """A small client for the endpoints a workflow run needs. One token, refreshed once on a 401."""

    def __init__(self, deployment: AirflowDeployment, session: requests.Session | None = None) -> None:
        self.deployment = deployment
        self.base = deployment.url.rstrip("/")
        self.session = session or requests.Session()
        self.session.verify = deployment.verify
        self._token: str | None = deployment.token

    # -- auth -----------------------------------------------------------------------------------
    def _fetch_token(self) -> str:
        d = self.deployment
        if d.username is not None and d.password is not None:
            response = self.session.post(
                f"{self.base}/auth/token",
                json={"username": d.username, "password": d.password},
                timeout=d.request_timeout,
            )
        else:
            # SimpleAuthManager with all-admins mode hands out a token without credentials.
            response = self.session.get(f"{self.base}/auth/token", timeout=d.request_timeout)
        if response.status_code not in (200, 201):
            raise RemoteWorkflowError(
                f"Airflow at {self.base} refused to issue a token (HTTP {response.status_code}): "
                f"{_detail(response)}; set WFO_AIRFLOW_USERNAME/WFO_AIRFLOW_PASSWORD or WFO_AIRFLOW_TOKEN",
                status_code=response.status_code,
                detail=_detail(response),
            )
        token = response.json().get("access_token")
        if not isinstance(token, str) or not token:
            raise RemoteWorkflowError(f"Airflow at {self.base} answered /auth/token without access_token")
        return token

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        fresh = self._token is None
        if self._token is None:
            self._token = self._fetch_token()
        kwargs.setdefault("timeout", self.deployment.request_timeout)
        url = f"{self.base}{path}"
        response = self.session.request(
            method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
        )
        # An expired or rejected JWT answers 401, or 403 "Invalid JWT token": get a new one, once.
        # A token given by the user is never swapped for another.
        if response.status_code in (401, 403) and not fresh and self.deployment.token is None:
            self._token = self._fetch_token()
            response = self.session.request(
                method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
        return response

    def _json(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            detail = _detail(response)
            raise RemoteWorkflowError(
                f"{what} failed (HTTP {response.status_code}): {detail}",
                status_code=response.status_code,
                detail=detail,
            )
        return response.json()

    # -- endpoints --------------------------------------------------------------------------------
    def get_dag(self, dag_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "GET", f"/api/v2/dags/{quote(dag_id, safe='')}", f"reading DAG {dag_id}"
        )
        return result

    def unpause(self, dag_id: str) -> None:
        self._json(
            "PATCH",
            f"/api/v2/dags/{quote(dag_id, safe='')}",
            f"unpausing DAG {dag_id}",
            json={"is_paused": False},
        )

    def trigger(self, dag_id: str, conf: Mapping[str, Any], run_id: str | None = None) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf)}
        if run_id is not None:
            body["dag_run_id"] = run_id
        result = self._json(
            "POST", f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", f"triggering {dag_id}", json=body
        )
        return str(result["dag_run_id"])

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "GET",
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
            f"reading run {run_id} of {dag_id}",
        )
        return result

    def get_xcom(self, dag_id: str, run_id: str, task_id: str, key: str = RESULT_XCOM_KEY) -> Any:
        path = (
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
            f"/taskInstances/{quote(task_id, safe='')}/xcomEntries/{quote(key, safe='')}"
        )
        entry = self._json("GET", path, f"reading XCom {task_id}.{key} of run {run_id}")
        value = entry.get("value") if isinstance(entry, dict) else None
        # The entry holds the stored JSON, which some metadata databases hand back as text.
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        return value

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
