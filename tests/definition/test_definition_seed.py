"""Every example workflow of the seed guide, written as JSON, loads and validates as it stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_wfo.definition.loading import (
    load_definition_file,
    load_workflow_from_json,
    save_workflow_to_json,
    save_workflow_to_yaml,
)
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.validation import validate_workflow

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed"

EXAMPLES = sorted(SEED.glob("*.json"))
#: The complete workflows of the guide (Save to JSON's ``my-workflow`` is elided there: "// ...").
EXPECTED_IDS = {
    "onboard-employee-001",
    "process-order",
    "api-workflow",
    "custom-workflow",
    "transaction-example",
    "conditional-workflow",
    "multi-notify",
    "long-running",
    "data-pipeline",
}


def test_every_seed_example_is_present() -> None:
    assert {path.stem for path in EXAMPLES} == EXPECTED_IDS


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_seed_example_loads_and_validates(path: Path) -> None:
    defn = load_definition_file(path)
    assert defn.id == path.stem
    result = validate_workflow(defn)
    assert result.valid, result.messages
    assert validate_workflow(__import__("json").loads(path.read_text())).valid


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_save_then_load_gives_an_equal_definition(path: Path) -> None:
    defn = load_workflow_from_json(path)
    again = load_workflow_from_json(save_workflow_to_json(defn))
    assert again == defn
    assert load_workflow_from_json(save_workflow_to_yaml(defn)) == defn
    # defaults stay out of the saved text: it reads like the file it came from
    assert "retryDelay" not in save_workflow_to_json(defn)


def test_seed_semantics_survive_loading() -> None:
    order = load_workflow_from_json(SEED / "process-order.json")
    assert isinstance(order, WorkflowDefinition)
    assert order.description == ""
    assert order.steps[1].depends_on == ["create-order"]
    assert order.steps[1].params["fields"][0]["value"] == "$create-order.webViewLink"
    api = load_workflow_from_json(str(SEED / "api-workflow.json"))
    assert api.steps[0].retry_count == 3 and api.steps[0].timeout == 30000
    assert api.steps[1].optional is True
    tx = load_workflow_from_json(SEED / "transaction-example.json")
    assert tx.steps[0].rollback is not None
    assert tx.steps[0].rollback.params == {"fileId": "$create-file.fileId"}
    assert tx.steps[0].rollback.retry_count == 3  # the rollback default
    assert tx.steps[2].rollback is None
