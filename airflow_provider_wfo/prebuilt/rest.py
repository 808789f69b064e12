"""THE client for Airflow's public REST API (``/api/v2``), built on the official ``apache-airflow-client``.

Used by the product's remote ``handle_*`` (``prebuilt/remote.py``), the Celery benchmark
(``bench/cluster.py``) and the cluster tests (``tests/cluster/conftest.py``). What it adds to the
generated client is what all three need and the client leaves to its caller:

* the JWT: ``POST /auth/token`` with a user and password, or ``GET /auth/token`` (SimpleAuthManager's
  all-admins mode), or a token given as is; an expired or rejected one (401, or 403 "Invalid JWT
  token") is exchanged once for a new one, unless the caller gave it;
* one error type, :class:`AirflowApiError`, carrying the HTTP status and Airflow's ``detail``;
* plain dicts back (``model_dump(mode="json")``), so callers do not depend on the generated models,
  and XCom values decoded to JSON whatever the metadata database hands back.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

# airflow_client is imported on first use: its package imports every generated model (about a second),
# which a local run of handle_* (no deployment configured) must not pay.

T = TypeVar("T")
FINISHED = frozenset({"success", "failed"})


class AirflowApiError(RuntimeError):
    """Airflow refused a request (``status_code``, Airflow's ``detail``), or could not be reached."""

    def __init__(self, message: str, *, status_code: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


def _detail(body: bytes | str | None) -> Any:
    if body is None:
        return None
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:2000]
    return parsed.get("detail", parsed) if isinstance(parsed, dict) else parsed


def _plain(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return dumped


class AirflowRest:
    """One api-server: its token and the typed endpoint groups of ``apache-airflow-client``.

    The endpoint groups (``dags``, ``dag_runs``, ``task_instances``, ``xcoms``, ``import_errors``) are the
    generated APIs; call them through :meth:`call` to get the token handling and the error type.
    """

    #: Raised for every refusal; a subclass may name its own (``remote.RemoteWorkflowError``).
    error: type[AirflowApiError] = AirflowApiError

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool | str = True,
        request_timeout: float = 30.0,
    ) -> None:
        self.base = url.rstrip("/")
        self.username = username
        self._password = password
        self._given_token = token
        self._token: str | None = token
        self.request_timeout = request_timeout
        from airflow_client.client import (
            ApiClient,
            Configuration,
            DAGApi,
            DagRunApi,
            ImportErrorApi,
            TaskInstanceApi,
            XComApi,
        )

        config = Configuration(host=self.base)
        if isinstance(verify, str):
            config.ssl_ca_cert = verify
        else:
            config.verify_ssl = verify
        self.api: Any = ApiClient(config)
        self.dags = DAGApi(self.api)
        self.dag_runs = DagRunApi(self.api)
        self.task_instances = TaskInstanceApi(self.api)
        self.xcoms = XComApi(self.api)
        self.import_errors = ImportErrorApi(self.api)

    # -- auth -----------------------------------------------------------------------------------
    def _fetch_token(self) -> str:
        if self.username is not None and self._password is not None:
            body = {"username": self.username, "password": self._password}
            response = self._raw("POST", "/auth/token", body, auth=False)
        else:
            # SimpleAuthManager with all-admins mode hands out a token without credentials.
            response = self._raw("GET", "/auth/token", None, auth=False)
        status = int(response.status)
        if status not in (200, 201):
            detail = _detail(response.read())
            raise self.error(
                f"Airflow at {self.base} refused to issue a token (HTTP {status}): {detail}; set "
                "WFO_AIRFLOW_USERNAME/WFO_AIRFLOW_PASSWORD or WFO_AIRFLOW_TOKEN",
                status_code=status,
                detail=detail,
            )
        token = json.loads(response.read() or b"{}").get("access_token")
        if not isinstance(token, str) or not token:
            raise self.error(f"Airflow at {self.base} answered /auth/token without access_token")
        return token

    def _ensure_token(self) -> bool:
        """Fetch a token when there is none; True when this call fetched it."""
        if self._token is not None:
            self.api.configuration.access_token = self._token
            return False
        self._token = self._fetch_token()
        self.api.configuration.access_token = self._token
        return True

    def access_token(self) -> str:
        """The JWT this client sends (fetched now when it has none yet)."""
        self._ensure_token()
        assert self._token is not None
        return self._token

    def _raw(self, method: str, path: str, body: Any, *, auth: bool = True) -> Any:
        """One request through the generated client's connection pool; ``body`` is JSON-encoded by it."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response: Any = self.api.call_api(
                method,
                f"{self.base}{path}",
                header_params=headers,
                body=body,
                _request_timeout=self.request_timeout,
            )
        except Exception as exc:  # urllib3 connection errors: name the server, keep the cause
            raise self.error(f"Airflow at {self.base} could not be reached: {exc}") from exc
        response.read()
        return response

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` (a generated endpoint) with a token; a refusal raises :attr:`error`
        saying ``what`` failed."""
        from airflow_client.client.exceptions import ApiException

        fresh = self._ensure_token()
        kwargs.setdefault("_request_timeout", self.request_timeout)
        try:
            try:
                return fn(*args, **kwargs)
            except ApiException as exc:
                # A token given by the caller is never swapped for another.
                if exc.status not in (401, 403) or fresh or self._given_token is not None:
                    raise
                self._token = None
                self._ensure_token()
                return fn(*args, **kwargs)
        except ApiException as exc:
            detail = _detail(exc.body)
            raise self.error(
                f"{what} failed (HTTP {exc.status}): {detail}", status_code=exc.status, detail=detail
            ) from None
        except AirflowApiError:
            raise
        except Exception as exc:
            raise self.error(f"{what} failed: Airflow at {self.base}: {exc}") from exc

    def http(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A request to a path the generated client has no method for (a plugin's own API, e.g.
        ``/wfo/api/...``), with the same token: (status, decoded JSON or text)."""
        self._ensure_token()
        response = self._raw(method, path, body)
        if int(response.status) in (401, 403) and self._given_token is None:
            self._token = None
            self._ensure_token()
            response = self._raw(method, path, body)
        raw = response.data or b""
        try:
            return int(response.status), json.loads(raw) if raw else None
        except ValueError:
            return int(response.status), raw.decode(errors="replace")

    # -- the endpoints a workflow run needs --------------------------------------------------------
    def get_dag(self, dag_id: str) -> dict[str, Any]:
        return _plain(self.call(f"reading DAG {dag_id}", self.dags.get_dag, dag_id))

    def set_paused(self, dag_id: str, paused: bool) -> None:
        from airflow_client.client import DAGPatchBody

        self.call(
            f"{'pausing' if paused else 'unpausing'} DAG {dag_id}",
            self.dags.patch_dag,
            dag_id,
            DAGPatchBody(is_paused=paused),
        )

    def trigger(self, dag_id: str, conf: Mapping[str, Any], run_id: str | None = None) -> str:
        from airflow_client.client import TriggerDAGRunPostBody

        body = TriggerDAGRunPostBody(conf=dict(conf), dag_run_id=run_id, logical_date=None)
        run = self.call(f"triggering {dag_id}", self.dag_runs.trigger_dag_run, dag_id, body)
        return str(run.dag_run_id)

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return _plain(
            self.call(f"reading run {run_id} of {dag_id}", self.dag_runs.get_dag_run, dag_id, run_id)
        )

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of the DAG, a page of 100 at a time (cheaper than one request a run)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.call(
                f"listing runs of {dag_id}", self.dag_runs.get_dag_runs, dag_id, limit=100, offset=offset
            )
            found.extend(_plain(run) for run in page.dag_runs)
            offset += len(page.dag_runs)
            if not page.dag_runs or offset >= (page.total_entries or 0):
                return found

    def run_states(self, dag_id: str) -> dict[str, str | None]:
        """run_id -> state of every run of the DAG."""
        return {run["dag_run_id"]: run["state"] for run in self.runs(dag_id)}

    def task_instances_of(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        page = self.call(
            f"listing the tasks of run {run_id}",
            self.task_instances.get_task_instances,
            dag_id,
            run_id,
            limit=100,
        )
        return [_plain(ti) for ti in page.task_instances]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances_of(dag_id, run_id)}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return _plain(
            self.call(
                f"reading task {task_id} of run {run_id}",
                self.task_instances.get_task_instance,
                dag_id,
                run_id,
                task_id,
            )
        )

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.call(
            f"reading XCom {task_id}.{key} of run {run_id}",
            self.xcoms.get_xcom_entry,
            dag_id,
            task_id,
            run_id,
            key,
        )
        value = getattr(getattr(entry, "actual_instance", entry), "value", None)
        # The entry holds the stored JSON, which some metadata databases hand back as text.
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        return value

    def import_error_list(self) -> list[dict[str, Any]]:
        page = self.call("listing import errors", self.import_errors.get_import_errors, limit=100)
        return [_plain(e) for e in page.import_errors]

    # -- waiting --------------------------------------------------------------------------------
    def wait_for_dag(self, dag_id: str, timeout: float, interval: float = 1.0) -> dict[str, Any]:
        """The DAG once the dag-processor has parsed it; the import errors when it does not appear."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.get_dag(dag_id)
            except AirflowApiError as exc:
                if exc.status_code != 404:
                    raise
            if time.monotonic() > deadline:
                raise self.error(
                    f"DAG {dag_id} not loaded in {timeout:g} s; import errors: {self.import_error_list()}"
                )
            time.sleep(interval)

    def wait_for_runs(
        self, dag_id: str, run_ids: Iterable[str], timeout: float, interval: float = 2.0
    ) -> dict[str, str | None]:
        """Poll (one listing per round) until every run is success/failed; run_id -> state."""
        wanted = set(run_ids)
        deadline = time.monotonic() + timeout
        while True:
            states = {r: s for r, s in self.run_states(dag_id).items() if r in wanted}
            pending = sorted(r for r in wanted if states.get(r) not in FINISHED)
            if not pending:
                return states
            if time.monotonic() > deadline:
                detail = {r: self.task_states(dag_id, r) for r in pending[:3]}
                raise self.error(f"{len(pending)} runs of {dag_id} not finished in {timeout:g} s: {detail}")
            time.sleep(interval)


def q(value: str) -> str:
    """One path segment, quoted (for :meth:`AirflowRest.http`)."""
    return quote(value, safe="")
