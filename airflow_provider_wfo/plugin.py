"""The Airflow plugin: registered by the ``airflow.plugins`` entry point and by ``plugins/``.

It brings the event listener (every Airflow process that loads plugins: scheduler, workers,
api-server, ``dag.test``) and the workflow view (a FastAPI app mounted by the api-server under
``/wfo``, linked from the Airflow UI as an external view).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_wfo.events import listener as _listener

#: Where the api-server mounts the workflow view app.
UI_URL_PREFIX = "/wfo"


class _LazyFastapiApps:
    """``fastapi_apps``, built on first read. Every Airflow process loads plugins, task processes
    included, but only the api-server reads this attribute: building the app at import cost a third
    of a Celery worker's samples in bench/ (py-spy)."""

    def __init__(self) -> None:
        self._apps: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._apps is None:
            # The api-server validates trigger conf against our DAGs' param schemas: register the
            # params dialect (pattern on RE2) there. Only the api-server reads fastapi_apps.
            import airflow_provider_wfo.definition.params_dialect  # noqa: F401

            try:
                from airflow_provider_wfo.ui.app import create_app
            except ImportError:  # pragma: no cover - fastapi is part of Airflow 3's core
                self._apps = []
            else:
                app = create_app()
                self._apps = [{"app": app, "url_prefix": UI_URL_PREFIX, "name": "Workflow runs (wfo)"}]
        return self._apps


class WfoPlugin(AirflowPlugin):
    name = "wfo"
    listeners = [_listener]
    fastapi_apps = _LazyFastapiApps()  # type: ignore[assignment]
    external_views = [
        {
            "name": "Workflow view",
            "href": UI_URL_PREFIX + "/dags/{DAG_ID}/runs/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "wfo-run",
            "category": "wfo",
        },
        {
            "name": "Workflows (wfo)",
            "href": UI_URL_PREFIX + "/",
            "destination": "nav",
            "url_route": "wfo",
            "category": "browse",
        },
    ]
