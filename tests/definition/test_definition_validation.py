"""validate_workflow: every rule, all errors at once, models and dicts alike."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_wfo.definition.errors import DefinitionError
from airflow_provider_wfo.definition.loading import definition_from_data
from airflow_provider_wfo.definition.models import RollbackAction, WorkflowDefinition, WorkflowStep
from airflow_provider_wfo.definition.validation import ValidationResult, validate_workflow


def step(sid: str, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "action": "act", "target": "tgt", **extra}


def wf(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "wf", "name": "Workflow", "steps": list(steps), **extra}


def errors(doc: dict[str, Any]) -> dict[str, str]:
    result = validate_workflow(doc)
    assert not result.valid and not result
    return {issue.location: issue.message for issue in result.errors}


def assert_valid(doc: dict[str, Any]) -> None:
    result = validate_workflow(doc)
    assert result.valid, result.messages
    assert result.errors == []


def test_result_type() -> None:
    result = validate_workflow(wf(step("a")))
    assert isinstance(result, ValidationResult) and result and result.valid
    bad = validate_workflow(wf())
    assert bad.messages == ["steps: a workflow needs at least one step"]
    with pytest.raises(DefinitionError):
        bad.raise_for_errors()


def test_accepts_a_model_built_in_python() -> None:
    defn = WorkflowDefinition(
        id="py",
        name="Built in Python",
        steps=[
            WorkflowStep(id="a", action="x", target="t", rollback=RollbackAction(action="u", target="t")),
            WorkflowStep(id="b", action="x", target="t", depends_on=["a"], params={"v": "$a.id"}),
        ],
    )
    assert validate_workflow(defn).valid
    defn.steps[1].depends_on = ["zzz"]  # assignment is not validated by the model; validation catches it
    assert "steps[1].dependsOn[0]" in {i.location for i in validate_workflow(defn).errors}


def test_non_json_python_values_are_reported() -> None:
    doc = wf(step("a", params={"when": object(), 3: "x"}))
    locations = errors(doc)
    assert "steps[0].params.when" in locations
    assert "not JSON data" in locations["steps[0].params.when"]


def test_ids_and_names() -> None:
    assert "must not be empty" in errors(wf(step("a"), id=""))["id"]
    assert "dag_id" in errors(wf(step("a"), id="a b"))["id"]
    assert "at most 250" in errors(wf(step("a"), id="x" * 251))["id"]
    assert_valid(wf(step("a"), id="x" * 250))
    assert "must not be empty" in errors(wf(step("a"), name="  "))["name"]
    assert "task_id" in errors(wf(step("a/b")))["steps[0].id"]
    assert "at most 239" in errors(wf(step("s" * 240)))["steps[0].id"]
    assert "contains '.'" in errors(wf(step("a.b")))["steps[0].id"]


@pytest.mark.parametrize(
    "reserved", ["saga_decision", "workflow_result", "compensate", "error", "failedStep"]
)
def test_reserved_step_ids(reserved: str) -> None:
    assert "reserved" in errors(wf(step(reserved)))["steps[0].id"]


def test_steps_actions_targets() -> None:
    assert errors(wf()) == {"steps": "a workflow needs at least one step"}
    found = errors(wf(step("a"), step("a"), step("b", action=" ", target="")))
    assert "duplicate step id 'a' (also used by steps[0])" in found["steps[1].id"]
    assert "must not be empty" in found["steps[2].action"]
    assert "must not be empty" in found["steps[2].target"]
    found = errors(wf(step("a", rollback={"action": "", "target": "t"})))
    assert "must not be empty" in found["steps[0].rollback.action"]


def test_dependencies() -> None:
    found = errors(wf(step("create-file"), step("notify", dependsOn=["create-fil", "create-file"])))
    assert found == {"steps[1].dependsOn[0]": "unknown step 'create-fil'; did you mean 'create-file'?"}
    assert "depends on itself" in errors(wf(step("a", dependsOn=["a"])))["steps[0].dependsOn[0]"]


def test_cycles_report_the_path_in_run_order() -> None:
    found = errors(wf(step("a", dependsOn=["c"]), step("b", dependsOn=["a"]), step("c", dependsOn=["b"])))
    assert found == {"steps[0].dependsOn[0]": "circular dependency: a -> b -> c -> a"}
    # an implicit edge (no dependsOn: after the previous step) takes part, and is explained
    found = errors(wf(step("a", dependsOn=["b"]), step("b")))
    assert found["steps[0].dependsOn[0]"].startswith("circular dependency: a -> b -> a")
    assert "waits for the step listed before it" in found["steps[0].dependsOn[0]"]
    # two independent cycles: both reported
    found = errors(
        wf(
            step("a", dependsOn=["b"]),
            step("b", dependsOn=["a"]),
            step("c", dependsOn=["d"]),
            step("d", dependsOn=["c"]),
        )
    )
    assert sum("circular" in m for m in found.values()) == 2


def test_ordering_rule_decides_what_a_step_may_read() -> None:
    # implicit sequential order: b runs after a, c after b; c may read a (transitively upstream)
    assert_valid(
        wf(step("a"), step("b", params={"x": "$a.id"}), step("c", params={"x": "$a.id", "y": "${b.v}"}))
    )
    # explicit dependsOn chains
    assert_valid(
        wf(
            step("start-process"),
            step("poll", dependsOn=["start-process"]),
            step("finalize", dependsOn=["poll"], params={"id": "$start-process.id"}),
        )
    )
    # a root (dependsOn: []) cannot read an earlier step
    found = errors(wf(step("a"), step("b", dependsOn=[], params={"x": "$a.id"})))
    assert "not upstream of 'b'" in found["steps[1].params.x"]
    assert "add 'a' to the dependsOn of 'b'" in found["steps[1].params.x"]
    # sibling branches cannot read each other
    found = errors(
        wf(
            step("root"),
            step("left", dependsOn=["root"]),
            step("right", dependsOn=["root"], params={"l": "$left.x"}),
        )
    )
    assert "may not exist yet" in found["steps[2].params.l"]
    # a later step
    found = errors(wf(step("a", params={"v": ["$b.x"]}), step("b")))
    assert "(it is listed later)" in found["steps[0].params.v[0]"]


def test_self_reference() -> None:
    found = errors(wf(step("create-file", params={"name": "copy of ${create-file.name}"})))
    assert "own result" in found["steps[0].params.name"]


def test_reference_names_are_checked_when_params_are_declared() -> None:
    params = {"orderId": {"type": "string"}, "customer-id": {"type": "string"}}
    assert_valid(
        wf(step("create-order", params={"name": "Order-$orderId.pdf", "c": "$customer-id"}), params=params)
    )
    found = errors(wf(step("create-order", params={"name": "Order-$orderID.pdf"}), params=params))
    assert "did you mean 'orderId'?" in found["steps[0].params.name"]
    assert "neither a step id nor a declared param" in found["steps[0].params.name"]
    # without declared params, any other name is a run-conf key: cannot be checked, so accepted
    assert_valid(wf(step("create-order", params={"name": "Order-$orderID.pdf"})))


def test_rollback_references() -> None:
    # its own forward step, an upstream step, $error, $failedStep, run conf: fine
    assert_valid(
        wf(
            step("create-task"),
            step(
                "create-file",
                rollback={
                    "action": "delete_file",
                    "target": "files",
                    "params": {
                        "fileId": "$create-file.fileId",
                        "card": "$create-task.id",
                        "reason": "$failedStep failed: $error",
                    },
                },
            ),
        )
    )
    # a later step
    found = errors(
        wf(
            step("create-file", rollback={"action": "d", "target": "t", "params": {"x": "$notify.ts"}}),
            step("notify"),
        )
    )
    assert "the rollback of 'create-file' reads step 'notify'" in found["steps[0].rollback.params.x"]
    # $error in rollback is allowed even when params are declared; in a forward step it is not a name
    params = {"orderId": {"type": "string"}}
    assert_valid(
        wf(step("a", rollback={"action": "d", "target": "t", "params": {"e": "$error"}}), params=params)
    )
    found = errors(wf(step("a", params={"e": "$error"}), params=params))
    assert "neither a step id nor a declared param" in found["steps[0].params.e"]


def test_reference_syntax_errors() -> None:
    found = errors(wf(step("a"), step("b", params={"x": {"y": ["ok", "${a.id"]}})))
    assert "malformed reference" in found["steps[1].params.x.y[1]"]
    assert_valid(wf(step("a", params={"price": "$$5", "s": "$5", "t": "trailing $"})))


def test_params_names_and_clashes() -> None:
    found = errors(wf(step("orderId"), params={"orderId": {"type": "string"}}))
    assert "same name as step" in found["params.orderId"]
    found = errors(wf(step("a"), params={"error": {}, "a.b": {}}))
    assert "reserved" in found["params.error"]
    assert "cannot be referenced" in found['params["a.b"]']


def test_params_must_be_json_schema() -> None:
    assert_valid(
        wf(
            step("a", params={"x": "$amount"}),
            params={
                "amount": {"type": "number", "minimum": 0, "default": 10},
                "vendor": {"type": ["string", "null"], "description": "Who sent it"},
                "anything": {},
            },
        )
    )
    found = errors(wf(step("a"), params={"amount": {"type": "numbr"}}))
    assert "not a JSON Schema type" in found["params.amount.type"]
    found = errors(wf(step("a"), params={"amount": {"minimum": "zero"}}))
    assert "not a valid JSON Schema" in found["params.amount.minimum"]
    found = errors(wf(step("a"), params={"amount": {"type": "number", "default": "ten"}}))
    assert "default does not match" in found["params.amount.default"]
    found = errors(wf(step("a"), params={"amount": "number"}))
    assert "expected an object" in found["params.amount"]


@pytest.mark.parametrize(
    "schedule",
    [
        "@daily",
        "@hourly",
        "@once",
        "@continuous",
        "@weekly",
        "@monthly",
        "@quarterly",
        "@yearly",
        "0 9 * * 1-5",
        "*/15 * * * *",
        "0 0 1 */3 *",
        "30 6 * * mon",
    ],
)
def test_valid_schedules(schedule: str) -> None:
    assert_valid(wf(step("a"), schedule=schedule, startDate="2025-01-01"))


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ("@daly", "did you mean '@daily'?"),
        ("61 * * * *", "not a valid cron expression"),
        ("* * *", "cron has 5 fields"),
        ("0 0 * * * *", "cron has 5 fields"),
        ("", "empty"),
        ("every day", "cron has 5 fields"),
    ],
)
def test_invalid_schedules(schedule: str, fragment: str) -> None:
    assert fragment in errors(wf(step("a"), schedule=schedule))["schedule"]


@pytest.mark.parametrize(
    "start", ["2025-01-31", "2025-01-31T09:00:00", "2025-01-31T09:00:00+00:00", "2025-01-31T09:00Z"]
)
def test_valid_start_dates(start: str) -> None:
    assert_valid(wf(step("a"), startDate=start))


@pytest.mark.parametrize("start", ["2025-13-01", "tomorrow", "31/01/2025", ""])
def test_invalid_start_dates(start: str) -> None:
    assert "not an ISO date" in errors(wf(step("a"), startDate=start))["startDate"]


def test_counts_and_durations_are_strict() -> None:
    found = errors(
        wf(
            step("a", retryCount=-1, timeout=1.5, retryDelay="1000", maxRetryDelay=-1, retryBackoff=-2),
            maxActiveRuns=0,
        )
    )
    assert set(found) >= {
        "steps[0].retryCount",
        "steps[0].timeout",
        "steps[0].retryDelay",
        "steps[0].maxRetryDelay",
        "steps[0].retryBackoff",
        "maxActiveRuns",
    }
    assert "must be at least 1 ms" in errors(wf(step("a", timeout=0)))["steps[0].timeout"]


def test_airflow_extensions_are_part_of_the_language() -> None:
    doc = wf(
        step(
            "a",
            retryCount=2,
            retryDelay=500,
            retryBackoff=2,
            maxRetryDelay=10_000,
            connId="my_drive",
            timeout=30_000,
            rollback={"action": "u", "target": "t", "retryCount": 5, "retryDelay": 2000, "timeout": 60_000},
        ),
        schedule="@daily",
        startDate="2025-01-01",
        catchup=False,
        tags=["finance"],
        owner="accounting",
        maxActiveRuns=1,
        params={"orderId": {"type": "string"}},
        description="All of it",
    )
    doc["$schema"] = "../airflow_provider_wfo/schema/workflow-definition.schema.json"
    assert_valid(doc)
    defn = definition_from_data(doc)
    assert defn.steps[0].conn_id == "my_drive" and defn.steps[0].retry_backoff == 2.0
    assert defn.steps[0].rollback is not None and defn.steps[0].rollback.timeout == 60_000
    assert defn.max_active_runs == 1 and defn.owner == "accounting" and defn.schema_url
    assert "task_id" not in json.dumps(validate_workflow(doc).messages)
    assert "conn_id" in errors(wf(step("a", connId="my drive")))["steps[0].connId"]
    assert "1 to 100 characters" in errors(wf(step("a"), tags=["x" * 101]))["tags[0]"]
