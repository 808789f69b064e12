"""The JSON Schema of a workflow definition, generated from the models.

A copy is committed at ``airflow_provider_wfo/schema/workflow-definition.schema.json`` (shipped in
the wheel) so editors can check definitions through ``"$schema"``; a test fails when the copy
drifts from the models. Regenerate it with
``wfo schema > airflow_provider_wfo/schema/workflow-definition.schema.json``.
The schema checks structure and types, and each built-in action's params (the control steps'
too: wait, approval, workflow); ``wfo validate`` checks everything else (ordering,
references, cycles, schedule, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_provider_wfo.definition import conditions
from airflow_provider_wfo.definition.control import apply_to_schema as apply_control_schema
from airflow_provider_wfo.definition.models import WorkflowDefinition

SCHEMA_ID = "urn:airflow-provider-wfo:workflow-definition:1"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The committed copy, inside the package.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "workflow-definition.schema.json"


def workflow_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of a definition file, camelCase keys."""
    from airflow_provider_wfo.definition.checks.actions import action_catalog

    generated = WorkflowDefinition.model_json_schema(by_alias=True, mode="validation")
    generated.pop("title", None)
    # Each built-in action's params, from the connector declarations (completion in editors).
    generated = action_catalog().params_schema(generated)
    # Then the wait, approval and workflow steps' params (definition/control.py), appended.
    generated = apply_control_schema(generated)
    _condition_schema(generated)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Workflow definition (airflow-provider-wfo)",
        **generated,
    }


def workflow_json_schema_text() -> str:
    """The schema as the committed file holds it: 2-space indented JSON and a final newline."""
    return json.dumps(workflow_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _condition_schema(generated: dict[str, Any]) -> None:
    """``when`` is typed Any in the model (a JSON value); here it gets the recursive Condition schema."""
    defs = generated.setdefault("$defs", {})
    defs.update(conditions.JSON_SCHEMA_DEFS)
    when = defs["WorkflowStep"]["properties"]["when"]
    defs["WorkflowStep"]["properties"]["when"] = {
        "$ref": "#/$defs/Condition",
        "description": when.get("description", ""),
    }
