"""The DAG files in dags/ parse cleanly and have the saga's shape; broken definitions are visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"

LOADER = "from airflow_provider_wfo import load_workflow_dags\n\nload_workflow_dags(globals())\n"


def _dagbag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="test")


def _edges(dag: Any) -> set[tuple[str, str]]:
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


@pytest.fixture(scope="module")
def repo_dagbag(airflow_db: Path) -> Any:
    return _dagbag(DAGS)


def test_no_import_errors(repo_dagbag: Any) -> None:
    assert repo_dagbag.import_errors == {}
    assert {"process-order", "onboard-employee"} <= set(repo_dagbag.dag_ids)


def test_process_order_shape(repo_dagbag: Any) -> None:
    dag = repo_dagbag.get_dag("process-order")
    forward = ["create-order", "log-order", "notify-customer"]
    assert set(dag.task_ids) == {
        *forward,
        "saga_decision",
        "compensate.create-order",
        "compensate.log-order",
        "workflow_result",
    }
    edges = _edges(dag)
    assert ("create-order", "log-order") in edges
    assert ("log-order", "notify-customer") in edges
    assert {("saga_decision", f"compensate.{s}") for s in ("create-order", "log-order")} <= edges
    assert {(f, "saga_decision") for f in forward} <= edges
    # reversed: the later step is undone first
    assert ("compensate.log-order", "compensate.create-order") in edges
    assert ("compensate.create-order", "compensate.log-order") not in edges
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["workflow_result"]
    assert {"wfo", "example", "orders"} <= set(dag.tags)
    assert dag.params["orderId"] == "ORD-2025-001"
    step = dag.get_task("create-order")
    assert step.retries == 2
    assert step.execution_timeout.total_seconds() == 30
    assert step.template_fields == ()
    assert step.trigger_rule == "all_success"
    assert dag.get_task("saga_decision").trigger_rule == "all_done"
    assert dag.get_task("compensate.create-order").trigger_rule == "all_done"
    assert dag.get_task("compensate.create-order").retries == 3
    assert dag.get_task("workflow_result").trigger_rule == "all_done"


def test_parallel_example_compensation_edges(repo_dagbag: Any) -> None:
    dag = repo_dagbag.get_dag("onboard-employee")
    edges = _edges(dag)
    assert ("step-1", "step-2") in edges and ("step-1", "step-3") in edges
    assert ("step-2", "step-3") not in edges
    assert ("compensate.step-3", "compensate.step-1") in edges
    assert "compensate.step-2" not in dag.task_ids


def test_broken_definition_is_an_import_error_and_good_ones_load(tmp_path: Path, airflow_db: Path) -> None:
    (tmp_path / "wfo_loader.py").write_text(LOADER)
    good = {"id": "good-one", "name": "Good", "steps": [{"id": "a", "action": "do", "target": "test"}]}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "also_good.yaml").write_text(
        "id: also-good\nname: Also good\nsteps:\n  - id: a\n    action: do\n    target: test\n"
    )
    (tmp_path / "typo.json").write_text(
        json.dumps(
            {"id": "typo", "name": "T", "steps": [{"id": "a", "action": "x", "target": "y", "dependOn": []}]}
        )
    )
    (tmp_path / "syntax.json").write_text('{"id": "syntax", "name": "S",\n "steps": [}')
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "ignored.json").write_text("not json at all")

    bag = _dagbag(tmp_path)

    assert set(bag.dag_ids) == {"good-one", "also-good"}
    assert list(bag.import_errors) == ["wfo_loader.py"]
    message = bag.import_errors["wfo_loader.py"]
    assert "2 workflow definition(s) could not be loaded" in message
    assert "typo.json" in message and "dependOn" in message
    assert "syntax.json" in message
    assert "ignored" not in message
    assert "syntax.json: line 2, column 12" in message  # the syntax error says where
