"""Validation of ``when``, ``forEach`` and ``maxConcurrency`` (definition/checks/step_flow.py)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.definition.validation import validate_workflow


def step(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "action": "do", "target": "test", **extra}


def issues(steps: list[dict[str, Any]], **extra: Any) -> list[tuple[str, str]]:
    result = validate_workflow({"id": "wf", "name": "wf", "steps": steps, **extra})
    return [(e.location, e.message) for e in result.errors]


def test_valid_conditions_and_for_each() -> None:
    assert issues([
        step("check"),
        step("high", when={"==": ["$check.priority", "high"]}),
        step("normal", when={"!": {"==": ["$check.priority", "high"]}}),
        step("book", forEach="$travellers", maxConcurrency=2,
             params={"who": "$item.name", "n": "$index", "p": "$check.priority"},
             rollback={"action": "undo", "target": "test", "params": {"id": "$book.id", "who": "$item"}}),
        step("after", when={"!!": "$high"}, params={"seats": "$book"}),
    ]) == []


@pytest.mark.parametrize(
    ("steps", "location", "message"),
    [
        ([step("a", when={"var": "x"})], "steps[0].when", "unknown operator 'var'"),
        ([step("a", when={">": [1]})], "steps[0].when.>", "exactly two operands"),
        ([step("a", when={"==": ["$a.x", 1]})], "steps[0].when.==[0]", "own result"),
        ([step("a"), step("b", dependsOn=[], when={"==": ["$a.x", 1]})], "steps[1].when.==[0]",
         "not upstream of 'b'"),
        ([step("b", when={"==": ["$a.x", 1]}), step("a")], "steps[0].when.==[0]", "listed later"),
        ([step("a", when={"==": ["$item", 1]})], "steps[0].when.==[0]", "only a forEach step"),
        ([step("a", forEach="$xs", when={"==": ["$item", 1]})], "steps[0].when.==[0]", "checked once"),
        ([step("a", forEach="$xs and $ys")], "steps[0].forEach", "one reference to a list"),
        ([step("a", forEach="${xs|join}")], "steps[0].forEach", "one reference to a list"),
        ([step("a", forEach="$item")], "steps[0].forEach", "not a list to map over"),
        ([step("a", forEach="$a.items")], "steps[0].forEach", "own result"),
        ([step("a"), step("b", dependsOn=[], forEach="$a.items")], "steps[1].forEach", "not upstream"),
        ([step("a", maxConcurrency=2)], "steps[0].maxConcurrency", "has no forEach"),
        ([step("a", forEach="$xs", maxConcurrency=0)], "steps[0].maxConcurrency", "must be at least 1"),
        ([step("a", params={"x": "$index"})], "steps[0].params.x", "defined only in a forEach step"),
        ([step("a", rollback={"action": "u", "target": "t", "params": {"x": "$item"}})],
         "steps[0].rollback.params.x", "defined only in a forEach step"),
        ([step("book", forEach="$xs"), step("book_1")], "steps[1].id", "clashes with item 1"),
        ([step("book", forEach="$xs"), step("item")], "steps[1].id", "reserved in a workflow with a forEach"),
        ([{"id": "w", "action": "delay", "target": "wait", "params": {"duration": 5}, "forEach": "$xs"}],
         "steps[0].forEach", "a wait step cannot"),
    ],
)
def test_errors_name_the_place(steps: list[dict[str, Any]], location: str, message: str) -> None:
    found = issues(steps)
    assert any(loc == location and message in msg for loc, msg in found), found


def test_declared_params_are_checked_by_name_and_type() -> None:
    params = {"travellers": {"type": "array"}, "amount": {"type": "number"}, "index": {"type": "integer"}}
    found = issues(
        [step("a", forEach="$amount"), step("b", when={">": ["$amuont", 1]}),
         step("c", forEach="$travellers")],
        params=params,
    )
    assert any(loc == "params.index" and "reserved in a workflow with a forEach" in m for loc, m in found)
    assert any(loc == "steps[0].forEach" and "declared with type 'number'" in m for loc, m in found), found
    assert any(loc == "steps[1].when.>[0]" and "did you mean 'amount'" in m for loc, m in found), found
    assert not any(loc.startswith("steps[2]") for loc, _ in found), found


def test_item_is_a_plain_name_without_for_each_when_declared() -> None:
    # A declared param named item stays readable in a workflow without forEach.
    assert issues([step("a", params={"x": "$item"})], params={"item": {"type": "string"}}) == []
