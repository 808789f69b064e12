"""`isPausedUponCreation`: a definition chooses whether its DAG starts paused (Airflow's
`is_paused_upon_creation`); left out, the deployment's `[core] dags_are_paused_at_creation` decides."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.definition.errors import DefinitionError
from airflow_provider_wfo.definition.loading import load_workflow_from_json

STEP = {
    "id": "a",
    "action": "send_notification",
    "target": "slack",
    "params": {"channel": "#x", "message": "m"},
}


def _defn(**extra: Any) -> dict[str, Any]:
    return {"id": "wf", "name": "W", "steps": [STEP], **extra}


@pytest.mark.parametrize("value", [True, False])
def test_the_key_reaches_airflow(value: bool) -> None:
    from airflow_provider_wfo.factory.dag_factory import build_dag

    defn = load_workflow_from_json(_defn(isPausedUponCreation=value))
    assert defn.is_paused_upon_creation is value
    assert build_dag(defn).is_paused_upon_creation is value


def test_left_out_the_deployment_decides() -> None:
    from airflow_provider_wfo.factory.dag_factory import build_dag

    defn = load_workflow_from_json(_defn())
    assert defn.is_paused_upon_creation is None
    assert build_dag(defn).is_paused_upon_creation is None


@pytest.mark.parametrize("value", ["no", 0, 1, "false", None])
def test_only_a_boolean(value: Any) -> None:
    data = _defn(isPausedUponCreation=value)
    if value is None:  # null = left out
        assert load_workflow_from_json(data).is_paused_upon_creation is None
        return
    with pytest.raises(DefinitionError) as caught:
        load_workflow_from_json(data)
    issue = caught.value.issues[0]
    assert issue.location == "isPausedUponCreation"
    assert "boolean" in issue.message or "true or false" in issue.message, issue.message


def test_the_schema_has_it() -> None:
    import json
    from pathlib import Path

    import airflow_provider_wfo

    schema = json.loads(
        (
            Path(airflow_provider_wfo.__file__).parent / "schema" / "workflow-definition.schema.json"
        ).read_text()
    )
    assert "isPausedUponCreation" in schema["properties"]
