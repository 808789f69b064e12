"""Drop-in on a real dag-processor: a broken definition next to a good one never hides, pauses or
deactivates the good one, its problem is visible, and fixing the file restores its DAG in one parse.

This is where users meet the promise: ``airflow dag-processor`` writing to its metadata DB (SQLite),
read back through the REST API of a running api-server. ``DagBag`` alone never reaches the code that
marks a file's DAGs stale (``airflow/dag_processing/collection.py``, ``_update_import_errors``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prebuilt.airflow_services import AirflowServices, airflow_services

from airflow_provider_wfo.cli.init import init_folder

pytestmark = pytest.mark.slow

STEP = {
    "id": "a",
    "action": "send_notification",
    "target": "slack",
    "params": {"channel": "#x", "message": "hi"},
}
GOOD = {"id": "good", "name": "Good", "steps": [STEP]}
NEIGHBOUR = {"id": "neighbour", "name": "Neighbour", "steps": [STEP, {**STEP, "id": "b", "dependsOn": ["a"]}]}
# The example: a `dependOn` typo.
BROKEN = {"id": "neighbour", "name": "Neighbour", "steps": [STEP, {**STEP, "id": "b", "dependOn": ["a"]}]}
#: Long enough for several parse cycles at the 5 s intervals of the test stack.
WAIT_S = 180
#: The stack's dag_file_processor_timeout, and how long the late loader file sleeps before loading:
#: past the 45 % of it the loader may build in (5.4 s), well before the kill (12 s).
PROCESSOR_TIMEOUT_S = 12
LATE_SLEEP_S = 6


class Api:
    def __init__(self, services: AirflowServices) -> None:
        self.url = services.url
        self.headers = {"Authorization": f"Bearer {services.token()}"}

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v2{path}", headers=self.headers, timeout=10)

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        response = self.get(f"/dags/{dag_id}")
        return response.json() if response.status_code == 200 else None

    def trigger(self, dag_id: str) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v2/dags/{dag_id}/dagRuns",
            headers=self.headers,
            json={"logical_date": None, "conf": {}},
            timeout=10,
        )

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self.get("/importErrors").json()["import_errors"])


def _parsed_at(dag: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(dag["last_parsed_time"]).replace("Z", "+00:00"))


def _tags(dag: dict[str, Any]) -> set[str]:
    return {str(t["name"]) for t in dag.get("tags") or []}


def _wait(what: str, check: Any, services: AirflowServices) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"{what} not seen within {WAIT_S} s\n{services.log_tail()}")


def _next_parse_after(api: Api, dag_id: str, since: datetime, services: AirflowServices) -> dict[str, Any]:
    """The DAG as written by the first parse of its loader file that started after ``since``."""

    def parsed() -> dict[str, Any] | None:
        dag = api.dag(dag_id)
        return dag if dag is not None and _parsed_at(dag) > since else None

    return dict(_wait(f"a parse of {dag_id} after {since}", parsed, services))


def _assert_good_is_live(api: Api) -> None:
    dag = api.dag("good")
    assert dag is not None, "the good DAG left the DAG list"
    assert dag["is_stale"] is False and dag["is_paused"] is False and dag["has_import_errors"] is False
    response = api.trigger("good")
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowServices, Path]]:
    root = tmp_path_factory.mktemp("dropin")
    dags = root / "dags"
    dags.mkdir()
    init_folder(dags)  # what `wfo init DIR` writes
    (dags / "good.json").write_text(json.dumps(GOOD))
    # A second loader file that has used up its share of the processor timeout before it starts (as
    # heavy imports would): its definitions live outside the folder the first loader reads.
    late = root / "late_definitions"
    late.mkdir()
    (late / "late.json").write_text(json.dumps({**GOOD, "id": "late"}))
    (dags / "late_loader.py").write_text(
        "import time\n\n"
        f"time.sleep({LATE_SLEEP_S})\n"
        "from airflow_provider_wfo import load_workflow_dags  # noqa: E402\n\n"
        f"load_workflow_dags(globals(), folder={str(late)!r})\n"
    )
    # The parse settings of our stacks, shortened (scripts/demo, scripts/cluster, docker-compose.yaml):
    # a DAG is re-serialized on every parse, not at most every 30 s.
    env = {
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": str(PROCESSOR_TIMEOUT_S),
    }
    with airflow_services(root / "home", dags, env, components=("api-server", "dag-processor")) as services:
        services.wait_for_dag("good")
        yield services, dags


def test_broken_neighbour_then_fixed(stack: tuple[AirflowServices, Path]) -> None:
    services, dags = stack
    api = Api(services)
    _assert_good_is_live(api)

    # A broken definition dropped next to the good one.
    (dags / "neighbour.json").write_text(json.dumps(BROKEN))
    dropped = datetime.now().astimezone()
    broken = _wait("the placeholder of neighbour.json", lambda: api.dag("neighbour"), services)
    assert _tags(broken) == {"wfo-broken"}
    assert "neighbour.json: steps[1]" in broken["description"] and "dependOn" in broken["description"]
    # Two more parses of the loader file: the good DAG is still listed, active and triggerable.
    later = _next_parse_after(api, "good", dropped, services)
    _next_parse_after(api, "good", _parsed_at(later), services)
    _assert_good_is_live(api)
    assert not any("wfo_workflows.py" in str(e.get("filename")) for e in api.import_errors())
    # The placeholder's run fails with the problem rather than doing anything.
    assert api.trigger("neighbour").status_code == 200

    # Fixed: the real DAG is back within one parse cycle. The first parse stored after the write may
    # have read the file before it (a parse in flight); the one after it has started since the fix.
    (dags / "neighbour.json").write_text(json.dumps(NEIGHBOUR))
    fixed = datetime.now().astimezone()
    restored = _next_parse_after(api, "neighbour", fixed, services)
    if "wfo-broken" in _tags(restored):
        restored = _next_parse_after(api, "neighbour", _parsed_at(restored), services)
    assert "wfo-broken" not in _tags(restored) and "wfo" in _tags(restored)
    assert restored["is_stale"] is False
    tasks = api.get("/dags/neighbour/tasks").json()["tasks"]
    assert {t["task_id"] for t in tasks} >= {"a", "b", "workflow_result"}
    assert api.trigger("neighbour").status_code == 200
    _assert_good_is_live(api)


def test_a_loader_past_its_share_of_the_processor_timeout_files_placeholders(
    stack: tuple[AirflowServices, Path],
) -> None:
    """The loader stops building at 45 % of dag_file_processor_timeout (counted from Airflow's import
    alarm), not only before the 30 s alarm: a file that got there late shows its definitions as
    placeholders that name the settings, instead of building on and being killed with nothing
    written. Here, on the real processor, the alarm really is set as the loader assumes."""
    services, _ = stack
    api = Api(services)
    placeholder = _wait("the late loader's placeholder", lambda: api.dag("wfo_broken.late.json"), services)
    assert _tags(placeholder) == {"wfo-broken"}
    assert "used up its time budget" in placeholder["description"]
    assert "dag_file_processor_timeout" in placeholder["description"]
    assert api.dag("late") is None  # not built: no DAG the processor would have had to serialize late
    assert not any("late_loader.py" in str(e.get("filename")) for e in api.import_errors())
    _assert_good_is_live(api)
