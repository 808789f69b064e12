"""Sub-workflow call cycles across the definitions of one folder: ``wfo validate FOLDER`` and the
loader refuse every definition on the cycle, at the calling step, and keep the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_definition_cli import wfo

from airflow_provider_wfo.factory.loader import BROKEN_TAG, load_workflow_dags


def _calling(workflow_id: str, *children: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"id": f"call_{c}", "target": "workflow", "action": "run", "params": {"workflowId": c}}
        for c in children
    ]
    steps.append({"id": "pause", "target": "wait", "action": "delay", "params": {"duration": 1}})
    return {"id": workflow_id, "name": workflow_id, "steps": steps}


def _folder(tmp_path: Path) -> Path:
    for defn in (
        _calling("a", "b"),
        _calling("b", "c"),
        _calling("c", "a"),
        _calling("top", "a"),
        _calling("leaf"),
    ):
        (tmp_path / f"{defn['id']}.json").write_text(json.dumps(defn))
    return tmp_path


def test_validate_folder_reports_the_cycle_at_each_calling_step(tmp_path: Path) -> None:
    run = wfo("validate", "--format", "json", str(_folder(tmp_path)))
    assert run.returncode == 1, run.stdout + run.stderr
    found = {(Path(i["file"]).stem, i["location"]) for i in json.loads(run.stdout)}
    assert found == {
        ("a", "steps[0].params.workflowId"),
        ("b", "steps[0].params.workflowId"),
        ("c", "steps[0].params.workflowId"),
    }
    assert "a -> b -> c -> a" in run.stdout
    assert "Traceback" not in run.stderr


def test_validate_one_file_cannot_see_the_cycle(tmp_path: Path) -> None:
    run = wfo("validate", str(_folder(tmp_path) / "a.json"))
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_loader_keeps_the_definitions_off_the_cycle(tmp_path: Path) -> None:
    dags = load_workflow_dags({}, folder=_folder(tmp_path))
    assert sorted(d for d, dag in dags.items() if BROKEN_TAG not in dag.tags) == ["leaf", "top"]
    broken = {d: dag.description for d, dag in dags.items() if BROKEN_TAG in dag.tags}
    assert sorted(broken) == ["a", "b", "c"]
    assert all("cycle (a -> b -> c -> a)" in (text or "") for text in broken.values())
