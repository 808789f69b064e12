"""The DAG shape of ``when`` and ``forEach`` steps, as the dag-processor stores it (serialized)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.definition.models import WorkflowDefinition, WorkflowStep
from airflow_provider_wfo.factory.plan import plan_for

LOADER = "from airflow_provider_wfo import load_workflow_dags\n\nload_workflow_dags(globals())\n"

DEFN: dict[str, Any] = {
    "id": "control-shape",
    "name": "Control shape",
    "steps": [
        {"id": "check", "action": "do", "target": "test"},
        {"id": "high", "action": "do", "target": "test", "when": {"==": ["$check.value", "x"]}},
        {"id": "book", "action": "do", "target": "test", "forEach": "$travellers", "maxConcurrency": 2,
         "retryCount": 3, "retryDelay": 250, "timeout": 60000,
         "rollback": {"action": "undo", "target": "test", "retryCount": 4}},
        {"id": "last", "action": "do", "target": "test"},
        {"id": "tail", "action": "do", "target": "test"},
    ],
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Any:
    """The DAG as the dag-processor stores it: parsed from a folder by a DagBag, then serialized and
    read back (what the scheduler works from)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    folder = tmp_path_factory.mktemp("control-dags")
    (folder / "control-shape.json").write_text(json.dumps(DEFN))
    (folder / "load.py").write_text(LOADER)
    bag = DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="test")
    assert bag.import_errors == {}
    data = DagSerialization.to_dict(bag.dags["control-shape"])
    json.dumps(data)  # storable as JSON
    return DagSerialization.from_dict(data)


def test_mapped_task_keeps_its_scheduler_arguments(stored: Any) -> None:
    book = stored.get_task("book")
    assert book.is_mapped
    assert book.partial_kwargs["max_active_tis_per_dagrun"] == 2
    assert book.partial_kwargs["retries"] == 3
    assert book.partial_kwargs["retry_delay"].total_seconds() == 0.25
    assert book.partial_kwargs["execution_timeout"].total_seconds() == 60
    undo = stored.get_task("compensate.book")
    assert undo.is_mapped and undo.partial_kwargs["retries"] == 4
    assert str(undo.trigger_rule) in ("all_done", "TriggerRule.ALL_DONE")
    assert undo.partial_kwargs["max_active_tis_per_dagrun"] == 2
    # the plan is stored as a short text, not a copy of the whole definition per mapped task
    assert len(str(book.partial_kwargs.get("plan"))) < 100


def test_trigger_rules_and_edges(stored: Any) -> None:
    def rule(task_id: str) -> str:
        value = stored.get_task(task_id).trigger_rule
        return str(getattr(value, "value", value))

    assert rule("high") == "all_success"
    assert rule("foreach.book") == "none_failed"  # after a step with when
    assert rule("book") == "all_success"
    assert rule("last") == "none_failed"  # after a forEach step (an empty list skips it)
    assert rule("tail") == "all_success"
    assert set(stored.get_task("book").upstream_task_ids) == {"foreach.book"}
    assert set(stored.get_task("foreach.book").upstream_task_ids) == {"high"}
    assert {"foreach.book", "book"} <= set(stored.get_task("saga_decision").upstream_task_ids)


def test_resolver_refuses_what_is_not_a_list() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_wfo.operators.foreach import WfoForEachOperator

    model = WorkflowDefinition.model_validate(DEFN)
    op = WfoForEachOperator(task_id="resolver", step=model.step("book"), plan=plan_for(model))
    assert op._items({"travellers": [1, 2]}) == [1, 2]
    for value, told in ((None, "gave null"), ("ann", "gave a str"), ({"a": 1}, "gave an object")):
        with pytest.raises(AirflowFailException, match=told):
            op._items({"travellers": value})
    with pytest.raises(AirflowFailException, match="unknown reference"):
        op._items({})


def test_item_operator_takes_the_step_as_stored_json() -> None:
    from airflow_provider_wfo.operators.foreach import WfoItemOperator

    model = WorkflowDefinition.model_validate(DEFN)
    stored_step = model.step("book").to_json_dict()
    op = WfoItemOperator(task_id="x", step=stored_step, plan=plan_for(model), wfo_item=1)
    assert isinstance(op.wfo_step, WorkflowStep) and op.wfo_step.for_each == "$travellers"
    assert op.retries == 3
