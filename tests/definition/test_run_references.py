"""Issue 11 item 7: ``$run`` fields are checked at validate time, with the place and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.definition.validation import validate_workflow


def _errors(params: dict[str, Any], **step: Any) -> list[tuple[str, str]]:
    defn = {
        "id": "runrefs",
        "name": "R",
        "steps": [{"id": "a", "target": "test", "action": "do", "params": params, **step}],
    }
    return [(e.location, e.message) for e in validate_workflow(defn).errors]


@pytest.mark.parametrize(
    "text", ["$run", "$run.runId", "${run.dagId}", "on $run.date", "${run.logicalDate}", "$run.startTime"]
)
def test_the_run_fields_validate(text: str) -> None:
    assert _errors({"x": text}) == []


def test_an_unknown_run_field_is_refused_with_a_suggestion() -> None:
    assert _errors({"x": "${run.id}"}) == [
        (
            "steps[0].params.x",
            "'${run.id}': $run has no field 'id'; did you mean 'runId'? "
            "(its fields: run.date, run.runId, run.dagId, run.startTime, run.logicalDate)",
        )
    ]
    ((where, message),) = _errors({"nested": {"list": ["ok", "$run.nope"]}})
    assert where == "steps[0].params.nested.list[1]" and "$run has no field 'nope'" in message


def test_a_path_below_a_run_field_is_refused() -> None:
    ((where, message),) = _errors({"x": "$run.date.year"})
    assert where == "steps[0].params.x"
    assert (
        message == "'$run.date.year': run.date is the run's date, YYYY-MM-DD (UTC, of the logical date "
        "or the run start); it has no fields"
    )


def test_run_fields_in_rollbacks_and_conditions() -> None:
    errors = _errors(
        {},
        rollback={"target": "test", "action": "undo", "params": {"y": "$run.nope"}},
        when={"==": ["$run.dagid", "x"]},
    )
    assert sorted(where for where, _ in errors) == ["steps[0].rollback.params.y", "steps[0].when.==[0]"]
    assert any("did you mean 'dagId'?" in message for _, message in errors)
