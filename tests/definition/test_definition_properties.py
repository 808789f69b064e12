"""Property tests: generated and mutated definitions never make the loader or validator misbehave.

The only failure allowed is the documented one: ``DefinitionError`` from the loader, an invalid
``ValidationResult`` from the validator. Valid definitions also survive a save/load round trip.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wfo.definition.errors import DefinitionError
from airflow_provider_wfo.definition.loading import (
    load_workflow_from_json,
    save_workflow_to_json,
    save_workflow_to_yaml,
)
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.validation import ValidationResult, validate_workflow

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

names = st.sampled_from(
    ["a", "b", "step-1", "step-2", "create-file", "orderId", "error", "saga_decision", "x.y", "", "é", "a b"]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def reference_strings(draw: st.DrawFn) -> str:
    name = draw(names)
    path = draw(st.lists(st.sampled_from(["id", "fileId", "0", "webViewLink", "__class__"]), max_size=2))
    dotted = ".".join([name, *path])
    form = draw(
        st.sampled_from(["$%s", "${%s}", "text $%s end", "$$%s", "${%s", "Order-$%s.pdf", "{{ %s }}"])
    )
    return form % dotted


@st.composite
def clean_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """Definitions that follow every rule, with references only to what is upstream."""
    pool = ["fetch", "create-file", "step-1", "notify_team", "s4", "s5", "load"]
    ids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
    declare = draw(st.booleans())
    steps = []
    for i, sid in enumerate(ids):
        step: dict[str, Any] = {
            "id": sid,
            "action": "create_task",
            "target": draw(st.sampled_from(["tasks", "files"])),
        }
        upstream = [ids[i - 1]] if i else []
        if i and draw(st.booleans()):
            upstream = draw(st.lists(st.sampled_from(ids[:i]), max_size=3, unique=True))
            step["dependsOn"] = upstream
        elif draw(st.integers(0, 3)) == 0:
            step["dependsOn"] = upstream
        refs = (
            [f"${u}.id" for u in upstream] + [f"Order-${{{u}}}.pdf" for u in upstream] + ["$orderId", "$$5"]
        )
        step["params"] = {
            "v": draw(st.sampled_from(refs)),
            "z": draw(json_values),
            "text": draw(st.text(max_size=8)).replace("$", "$$"),
        }
        if draw(st.booleans()):
            step["rollback"] = {
                "action": "undo",
                "target": "tasks",
                "params": {"r": f"${sid}.id", "why": "$failedStep: $error"},
                "retryCount": draw(st.integers(0, 5)),
            }
        if draw(st.booleans()):
            step["retryCount"] = draw(st.integers(0, 5))
            step["retryDelay"] = draw(st.integers(0, 10_000))
            step["retryBackoff"] = draw(st.floats(0, 10))
            step["timeout"] = draw(st.integers(1, 10**6))
            step["optional"] = draw(st.booleans())
        steps.append(step)
    doc: dict[str, Any] = {
        "id": draw(st.sampled_from(["wf", "my.workflow-1"])),
        "name": "Workflow",
        "steps": steps,
    }
    if declare:
        doc["params"] = {"orderId": {"type": "string", "default": "ORD-1"}}
    if draw(st.booleans()):
        doc["schedule"] = draw(st.sampled_from(["@daily", "0 9 * * 1-5", None]))
        doc["startDate"] = "2025-01-01"
    return doc


@st.composite
def noisy_definitions(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 6))
    ids = [draw(names) if draw(st.booleans()) else f"s{i}" for i in range(count)]
    steps = []
    for sid in ids:
        step: dict[str, Any] = {
            "id": sid,
            "action": draw(st.sampled_from(["create_task", ""])),
            "target": "tasks",
        }
        if draw(st.booleans()):
            step["params"] = {
                "v": draw(reference_strings()),
                "w": draw(st.lists(reference_strings(), max_size=2)),
                "z": draw(json_values),
            }
        if draw(st.booleans()):
            step["dependsOn"] = draw(st.lists(st.sampled_from([*ids, "nowhere"]), max_size=3))
        if draw(st.booleans()):
            step["rollback"] = {
                "action": "undo",
                "target": "tasks",
                "params": {"r": draw(reference_strings())},
            }
        for key in ("retryCount", "timeout", "retryDelay", "optional", "retryBackoff"):
            if draw(st.integers(0, 4)) == 0:
                step[key] = draw(st.one_of(st.integers(-2, 5), scalars))
        steps.append(step)
    doc: dict[str, Any] = {"id": draw(names), "name": draw(st.sampled_from(["Workflow", ""])), "steps": steps}
    if draw(st.booleans()):
        doc["params"] = draw(
            st.dictionaries(
                names,
                st.one_of(st.just({"type": "string"}), st.just({"type": "nope"}), json_values),
                max_size=3,
            )
        )
    if draw(st.booleans()):
        doc["schedule"] = draw(st.sampled_from(["@daily", "@daly", "0 9 * * 1-5", "61 * * * *", "x", ""]))
    if draw(st.booleans()):
        doc["startDate"] = draw(st.sampled_from(["2025-01-01", "2025-13-01", "soon"]))
    return doc


def definitions() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(clean_definitions(), noisy_definitions())


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = draw(definitions())
    for _ in range(draw(st.integers(0, 4))):
        containers: list[Any] = []
        stack: list[Any] = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, (dict, list)):
                containers.append(node)
                stack.extend(node.values() if isinstance(node, dict) else node)
        target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["drop", "retype", "add", "dependOn"]))
        if isinstance(target, dict):
            keys = list(target)
            if action == "drop" and keys:
                del target[draw(st.sampled_from(keys))]
            elif action == "retype" and keys:
                target[draw(st.sampled_from(keys))] = draw(json_values)
            elif action == "dependOn":
                target["dependOn"] = ["a"]
            else:
                target[draw(st.text(max_size=8))] = draw(json_values)
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if action == "drop":
                del target[index]
            else:
                target[index] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)  # not even an object
    return doc


def check(doc: Any) -> None:
    result = validate_workflow(doc) if isinstance(doc, dict) else None
    if result is not None:
        assert isinstance(result, ValidationResult)
        assert result.valid == (not result.errors)
        assert all(isinstance(e.location, str) and e.message for e in result.errors)
    for text in (json.dumps(doc), json.dumps(doc, indent=1)):
        try:
            defn = load_workflow_from_json(text)
        except DefinitionError as exc:
            assert exc.issues
            assert result is None or not result.valid
            continue
        assert isinstance(defn, WorkflowDefinition)
        assert result is not None and result.valid, result
        assert load_workflow_from_json(save_workflow_to_json(defn)) == defn
        assert load_workflow_from_json(save_workflow_to_yaml(defn)) == defn


@SETTINGS
@given(definitions())
def test_generated_definitions(doc: dict[str, Any]) -> None:
    check(doc)


@settings(max_examples=60, deadline=None)
@given(clean_definitions())
def test_clean_definitions_are_valid(doc: dict[str, Any]) -> None:
    result = validate_workflow(doc)
    assert result.valid, result.messages
    check(doc)


@SETTINGS
@given(mutated())
def test_mutated_definitions(doc: Any) -> None:
    check(doc)


@SETTINGS
@given(definitions(), st.data())
def test_damaged_text(doc: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps(doc, indent=data.draw(st.sampled_from([None, 2])))
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(
        st.sampled_from(["", "{", "]", ",", '"', "\\", "\t", "\x00", "- ", ": ", "&a", "*a", "!!"])
    )
    damaged = text[:cut] + insert + text[cut + data.draw(st.integers(0, 3)) :]
    for candidate in (damaged, damaged.replace('"', ""), damaged.encode("utf-8", "surrogatepass")):
        try:
            load_workflow_from_json(candidate)
        except DefinitionError as exc:
            assert exc.issues


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    try:
        load_workflow_from_json(text)
    except DefinitionError as exc:
        assert exc.issues
