"""The plugin loads once (entry point + plugins folder), registers the listener, and its workflow view
is mounted in the api-server behind Airflow's own authentication."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wfo_events_helpers import CONF, SECRET, saga_defn

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from airflow import plugins_manager
from airflow.listeners.listener import get_listener_manager
from airflow.sdk.listener import get_listener_manager as sdk_listener_manager
plugins, errors = plugins_manager._get_plugins()
apps, _ = plugins_manager.get_fastapi_plugins()
views, _ = plugins_manager._get_ui_plugins()
print(json.dumps({
    "names": [p.name for p in plugins],
    "errors": {str(k): str(v) for k, v in errors.items()},
    "core_listeners": [getattr(p, "__name__", "") for p in get_listener_manager().pm.get_plugins()],
    "sdk_listeners": [getattr(p, "__name__", "") for p in sdk_listener_manager().pm.get_plugins()],
    "apps": [a["url_prefix"] for a in apps],
    "views": [v["url_route"] for v in views],
}))
"""


def test_plugin_loads_once_from_entry_point_and_plugins_folder(airflow_db: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins")}
    # cwd outside the repo: a stale ``*.egg-info`` in the repo root would add a second entry point.
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["names"].count("wfo") == 1
    assert info["errors"] == {}
    assert "airflow_provider_wfo.events.listener" in info["core_listeners"]
    assert "airflow_provider_wfo.events.listener" in info["sdk_listeners"]
    assert info["apps"].count("/wfo") == 1
    assert {"wfo", "wfo-run"} <= set(info["views"])


def _token(username: str = "admin", role: str | None = "admin") -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role=role))


@pytest.fixture(scope="module")
def api_client(airflow_db: Path) -> Any:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    previous = os.environ.get("AIRFLOW__API_AUTH__JWT_SECRET")
    os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = "wfo-events-test-secret-" + "x" * 64
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        if previous is None:
            os.environ.pop("AIRFLOW__API_AUTH__JWT_SECRET", None)
        else:
            os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = previous


@pytest.mark.slow
def test_workflow_view_requires_authentication(
    run_workflow: Any, wfo_calls: Any, api_client: Any
) -> None:
    from urllib.parse import quote

    result = run_workflow(saga_defn("ev_ui", fail_b=True), CONF)
    assert result.status.value == "ROLLED_BACK"
    run_id = quote(run_workflow.last.run_id, safe="")
    urls = [
        f"/wfo/dags/ev_ui/runs/{run_id}",
        f"/wfo/dags/ev_ui/runs/{run_id}/timeline.svg",
        f"/wfo/dags/ev_ui/runs/{run_id}/graph.svg",
        f"/wfo/api/dags/ev_ui/runs/{run_id}/trace",
        "/wfo/",
    ]
    for url in urls:
        assert api_client.get(url).status_code == 401, url
        bad = {"Authorization": "Bearer not-a-jwt"}
        assert api_client.get(url, headers=bad).status_code in (401, 403), url
        api_client.cookies.set("_token", "not-a-jwt")
        assert api_client.get(url).status_code in (401, 403), url
        api_client.cookies.clear()
    # A valid user without any role may not read the DAG's runs.
    nobody = {"Authorization": f"Bearer {_token('nobody', None)}"}
    assert api_client.get(urls[0], headers=nobody).status_code == 403

    admin = {"Authorization": f"Bearer {_token()}"}
    page = api_client.get(urls[0], headers=admin)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in ("Create record", "Notify", "Track", "ROLLED_BACK", "rolled back", "<svg", "wfo-gantt",
                 "wfo-graph", "ActionError: b: planned failure", "66%"):
        assert text in html, text
    assert SECRET not in html
    # The UI's session cookie works too (the page is opened inside the Airflow UI).
    api_client.cookies.set("_token", _token())
    assert api_client.get(urls[0]).status_code == 200
    api_client.cookies.clear()

    svg = api_client.get(urls[1], headers=admin)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'data-step="a"' in svg.text
    trace = api_client.get(urls[3], headers=admin).json()
    assert trace["status"] == "ROLLED_BACK"
    assert [e["type"] for e in trace["events"]][-2:] == ["rollback:completed", "workflow:failed"]
    assert api_client.get("/wfo/api/dags/ev_ui/runs/nope/trace", headers=admin).status_code == 404
    index = api_client.get("/wfo/", headers=admin)
    assert index.status_code == 200 and "ev_ui" in index.text
    # The index shows the saga's status, not Airflow's "failed".
    row = next(r for r in index.text.split("<tr>") if quote(run_workflow.last.run_id, safe="") in r)
    assert ">ROLLED_BACK</span>" in row and 'data-state="failed"' in row

    # One source of truth: a finished rolled-back run is 100 % done, its bar shows what happened to each
    # step, and header, timeline and trace give Airflow's run duration.
    assert '<b id="wfo-progress">100%</b>' in html
    for status in ("ROLLED_BACK", "FAILED", "SKIPPED"):
        assert f'class="seg" data-status="{status}"' in html, status
    assert trace["duration"] is not None
    assert f'<span id="wfo-duration">{trace["duration"]} ms' in html
    assert f'text-anchor="end" fill="#555">{trace["duration"]} ms</text>' in svg.text
    b = trace["steps"][1]
    assert b["status"] == "FAILED" and len(b["attempts"]) == 2 and b["span"] >= b["duration"]
    assert f"{b['duration']} ms (last of 2 attempts; {b['span']} ms in all)" in html
    # Under it, the last attempt as Airflow timed it (task start to end), the figure of its bar.
    last = b["attempts"][-1]["duration"]
    assert f'data-task-ms="{last}">Airflow task {last} ms</div>' in html
    assert f"attempt 2: failed, Airflow task {last} ms" in svg.text
