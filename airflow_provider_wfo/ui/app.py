"""The workflow view app, mounted by the api-server at ``/wfo`` (see ``WfoPlugin.fastapi_apps``).

Routes (all require the Airflow UI's authentication; the DAG's run read permission per run):

* ``GET /wfo/``                                         recent runs of wfo DAGs the user may read
* ``GET /wfo/dags/{dag_id}/runs/{run_id}``               the run page (SVG timeline + saga graph + tables)
* ``GET /wfo/dags/{dag_id}/runs/{run_id}/timeline.svg``  the Gantt timeline alone
* ``GET /wfo/dags/{dag_id}/runs/{run_id}/graph.svg``     the saga graph alone
* ``GET /wfo/api/dags/{dag_id}/runs/{run_id}/trace``     the audit trail as JSON

Plugin apps are open unless protected: every route depends on :func:`authorized_user`, which resolves
the user exactly as the api-server's own routes do (``airflow.api_fastapi.core_api.security.get_user``:
``Authorization: Bearer <jwt>`` or the UI's ``_token`` cookie) and asks the configured auth manager
whether the user may read the DAG's runs. Airflow's API modules are imported per request, so loading
the plugin in a worker or the scheduler stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from airflow_provider_wfo.saga.names import WFO_TAG


async def authorized_user(request: Request) -> Any:
    """The authenticated Airflow user; 401 without credentials, 403 with a bad token or no access."""
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPAuthorizationCredentials

    credentials = None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
    user = await get_user(request, None, credentials)
    dag_id = request.path_params.get("dag_id")
    if dag_id is not None and not _may_read_runs(user, str(dag_id)):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    return user


def _may_read_runs(user: Any, dag_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    try:
        from airflow.models.dag import DagModel

        team_name = DagModel.get_team_name(dag_id)
    except Exception:
        team_name = None
    return bool(
        get_auth_manager().is_authorized_dag(
            method="GET",
            access_entity=DagAccessEntity.RUN,
            details=DagDetails(id=dag_id, team_name=team_name),
            user=user,
        )
    )


def _trace(dag_id: str, run_id: str) -> Any:
    from airflow_provider_wfo.events.trace import TraceNotFound, build_trace

    try:
        return build_trace(dag_id, run_id)
    except TraceNotFound as exc:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc


def _recent_runs(user: Any, limit: int = 100) -> list[dict[str, Any]]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagTag
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_wfo.events.trace import run_xcoms
    from airflow_provider_wfo.saga.names import RESULT_TASK_ID, RETURN_KEY
    from airflow_provider_wfo.saga.status import recorded_status

    with create_session() as session:
        allowed = get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session)
        wfo_dags = set(session.scalars(select(DagTag.dag_id).where(DagTag.name == WFO_TAG)))
        dag_ids = sorted(wfo_dags & set(allowed))
        if not dag_ids:
            return []
        runs = list(
            session.scalars(
                select(DagRun).where(DagRun.dag_id.in_(dag_ids)).order_by(DagRun.id.desc()).limit(limit)
            )
        )
        # One query for the results of every listed run.
        xcoms = run_xcoms(session, [(r.dag_id, r.run_id) for r in runs], outcomes=False)
        listed = []
        for r in runs:
            state = str(getattr(r.state, "value", r.state))
            result = xcoms.get((r.dag_id, r.run_id), {}).get((RESULT_TASK_ID, RETURN_KEY))
            listed.append(
                {
                    "dag_id": r.dag_id,
                    "run_id": r.run_id,
                    "state": state,
                    "status": recorded_status(state, result if isinstance(result, dict) else None).value,
                    "start_date": r.start_date.isoformat() if r.start_date else None,
                }
            )
        return listed


def _base(request: Request) -> str:
    # Mounted sub-app: root_path is the mount prefix (e.g. "/wfo"), possibly behind a base_url.
    return str(request.scope.get("root_path", "")).rstrip("/")


def create_app() -> FastAPI:
    from airflow_provider_wfo.ui import render

    app = FastAPI(
        title="wfo workflow view",
        description="Workflow runs with saga semantics: timeline, saga graph, audit trail.",
        dependencies=[Depends(authorized_user)],
    )

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request, user: Annotated[Any, Depends(authorized_user)]) -> HTMLResponse:
        runs = await run_in_threadpool(_recent_runs, user)
        return HTMLResponse(render.index_page(runs, base=_base(request)))

    @app.get("/dags/{dag_id}/runs/{run_id}", response_class=HTMLResponse)
    async def run_view(request: Request, dag_id: str, run_id: str) -> HTMLResponse:
        trace = await run_in_threadpool(_trace, dag_id, run_id)
        return HTMLResponse(render.run_page(trace, base=_base(request)))

    @app.get("/dags/{dag_id}/runs/{run_id}/timeline.svg")
    async def timeline_svg(dag_id: str, run_id: str) -> Response:
        trace = await run_in_threadpool(_trace, dag_id, run_id)
        return Response(render.gantt_svg(trace), media_type="image/svg+xml")

    @app.get("/dags/{dag_id}/runs/{run_id}/graph.svg")
    async def saga_graph_svg(dag_id: str, run_id: str) -> Response:
        trace = await run_in_threadpool(_trace, dag_id, run_id)
        return Response(render.graph_svg(trace), media_type="image/svg+xml")

    @app.get("/api/dags/{dag_id}/runs/{run_id}/trace")
    async def trace_json(dag_id: str, run_id: str) -> JSONResponse:
        trace = await run_in_threadpool(_trace, dag_id, run_id)
        return JSONResponse(trace.to_json_dict())

    return app
