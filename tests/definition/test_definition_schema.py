"""The committed JSON Schema matches the models, and checks what the models check."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_wfo.definition.schema import (
    SCHEMA_PATH,
    workflow_json_schema,
    workflow_json_schema_text,
)

REPO = Path(__file__).resolve().parents[2]


def test_committed_schema_is_in_sync_with_the_models() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == workflow_json_schema_text(), (
        "the committed JSON Schema drifted from the models; regenerate it with "
        "`wfo schema > airflow_provider_wfo/schema/workflow-definition.schema.json`"
    )


def test_schema_is_valid_draft_2020_12_with_id_and_title() -> None:
    schema = workflow_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] and schema["title"]
    assert schema["additionalProperties"] is False
    assert {"id", "name", "steps"} <= set(schema["required"])
    assert "dependsOn" in schema["$defs"]["WorkflowStep"]["properties"]


@pytest.mark.parametrize("path", sorted((REPO / "examples" / "seed").glob("*.json")), ids=lambda p: p.stem)
def test_seed_examples_satisfy_the_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(workflow_json_schema()).validate(json.loads(path.read_text()))


def test_schema_refuses_unknown_keys_and_wrong_types() -> None:
    validator = jsonschema.Draft202012Validator(workflow_json_schema())
    base = {"id": "x", "name": "y", "steps": [{"id": "a", "action": "b", "target": "c"}]}
    assert validator.is_valid(base)
    assert not validator.is_valid({**base, "steps": [{**base["steps"][0], "dependOn": ["z"]}]})
    assert not validator.is_valid({**base, "steps": [{**base["steps"][0], "retryCount": "3"}]})
