"""The condition evaluator (definition/conditions.py): operators, strictness, truthiness, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wfo.definition.conditions import (
    OPERATORS,
    ConditionError,
    check,
    evaluate,
    json_equal,
    references,
    resolved,
    truthy,
)
from airflow_provider_wfo.definition.references import SKIPPED_RESULT, resolve

SCOPE: dict[str, Any] = {
    "amount": 15000,
    "price": 9.5,
    "name": "Ada",
    "tags": ["vip", "eu"],
    "check": {"priority": "high", "score": 0, "items": [1, 2]},
    "flag": True,
    "nothing": None,
    "high": SKIPPED_RESULT,
    "evil": "{{ 7*7 }} __import__('os')",
}


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({">": ["$amount", 10000]}, True),
        ({">": ["$amount", 15000]}, False),
        ({">=": ["$amount", 15000]}, True),
        ({"<": ["$price", 10]}, True),
        ({"<=": ["$price", 9.5]}, True),
        ({"==": ["$check.priority", "high"]}, True),
        ({"!=": ["$check.priority", "high"]}, False),
        ({"==": [1, 1.0]}, True),
        ({"==": [True, 1]}, False),
        ({"==": ["1", 1]}, False),
        ({"==": [0, False]}, False),
        ({"==": ["$nothing", None]}, True),
        ({"==": ["$check.items", [1, 2]]}, True),
        ({"==": [[1, 2], [1, 2.0]]}, True),
        ({"==": [[True], [1]]}, False),
        ({"<": ["abc", "abd"]}, True),
        ({"in": ["vip", "$tags"]}, True),
        ({"in": ["us", "$tags"]}, False),
        ({"in": ["da", "Adam"]}, True),
        ({"in": ["$name", ["Ada", "Bob"]]}, True),
        ({"in": [1, [True]]}, False),
        ({"and": [True, {">": ["$amount", 1]}]}, True),
        ({"and": [True, 0]}, False),
        ({"or": [False, "", [], None, "$check"]}, True),
        ({"or": [False]}, False),
        ({"!": "$check.score"}, True),
        ({"!": ["$flag"]}, False),
        ({"!!": "$check"}, True),
        ({"!!": [[]]}, False),
        ({"!!": "$high"}, False),
        ({"==": ["$high.any.path", None]}, True),
        ({"==": ["${high.x}", None]}, True),
        ({"==": ["Order-$name", "Order-Ada"]}, True),
        ({"==": ["$$amount", "Amount in $$"]}, False), ({"in": ["$$", "$$amount"]}, True),
        ({"==": ["$evil", "{{ 7*7 }} __import__('os')"]}, True),
        ({"==": [{"!": False}, True]}, True),
        ("$flag", True),
        ("$check.score", False),
        (True, True),
        ({}, True),
    ],
)
def test_evaluate(cond: Any, expected: bool) -> None:
    if cond == {}:
        # An empty object is not an operator node: a malformed condition, not a truthy literal.
        with pytest.raises(ConditionError, match="exactly one key"):
            evaluate(cond, SCOPE)
        return
    assert evaluate(cond, SCOPE) is expected


@pytest.mark.parametrize(
    ("cond", "where", "message"),
    [
        ({"var": "amount"}, "when", "unknown operator 'var'"),
        ({"===": [1, 1]}, "when", "did you mean '=='"),
        ({"==": [1, 1], "!=": [1, 2]}, "when", "exactly one key"),
        ({">": ["$amount"]}, "when.>", "exactly two operands"),
        ({">": "$amount"}, "when.>", "takes a list of operands"),
        ({"and": []}, "when.and", "one or more"),
        ({"!": [1, 2]}, "when.!", "one operand"),
        ({"and": [True, {"nope": 1}]}, "when.and[1]", "unknown operator 'nope'"),
        ({"==": ["${amount", 1]}, "when.==[0]", "malformed reference"),
    ],
)
def test_check_reports_the_place(cond: Any, where: str, message: str) -> None:
    issues = check(cond)
    assert issues, cond
    assert issues[0].where == where
    assert message in issues[0].message
    with pytest.raises(ConditionError):
        evaluate(cond, SCOPE)


@pytest.mark.parametrize(
    ("cond", "where", "message"),
    [
        ({">": ["$nothing", 1]}, "when.>", "compares two numbers or two strings; got null"),
        ({">": ["$name", 1]}, "when.>", "the string 'Ada' and the number 1"),
        ({"<": [True, 2]}, "when.<", "got true"),
        ({"in": [1, 2]}, "when.in", "'in' needs a list"),
        ({"==": ["$missing", 1]}, "when.==[0]", "unknown reference '$missing'"),
        ({"==": ["$check.nope", 1]}, "when.==[0]", "has no field 'nope'"),
    ],
)
def test_runtime_errors_name_the_place(cond: Any, where: str, message: str) -> None:
    assert check(cond) == []
    with pytest.raises(ConditionError) as info:
        evaluate(cond, SCOPE)
    assert info.value.where == where
    assert message in info.value.message


def test_and_or_short_circuit() -> None:
    # The second operand would be an error: short-circuit means it is never looked at.
    assert evaluate({"and": [False, {">": ["$nothing", 1]}]}, SCOPE) is False
    assert evaluate({"or": [True, "$missing"]}, SCOPE) is True


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    cond: Any = True
    for _ in range(500):
        cond = {"!": cond}
    assert any("nested deeper" in issue.message for issue in check(cond))
    with pytest.raises(ConditionError, match="nested deeper"):
        evaluate(cond, SCOPE)


def test_references_and_resolved() -> None:
    cond = {"and": [{">": ["$amount", 10000]}, {"==": ["$check.priority", "high"]}]}
    found = [(where, ref.name, ref.path) for where, ref in references(cond)]
    assert found == [("when.and[0].>[0]", "amount", ()), ("when.and[1].==[0]", "check", ("priority",))]
    assert resolved(cond, SCOPE) == {"and": [{">": [15000, 10000]}, {"==": ["high", "high"]}]}
    assert resolved({"==": ["$missing", 1]}, SCOPE) == {"==": ["$missing", 1]}


def test_skipped_result_in_params_gives_null() -> None:
    assert resolve({"a": "$high", "b": "$high.x.y", "c": "was ${high.x}"}, SCOPE) == {
        "a": None, "b": None, "c": "was null",
    }


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json)
def test_equality_is_symmetric_and_bool_is_not_a_number(a: Any, b: Any) -> None:
    assert json_equal(a, b) == json_equal(b, a)
    assert json_equal(a, a) or a != a
    scope = {"a": a, "b": b}  # through references, so a dict is a value, not an operator node
    assert evaluate({"!=": ["$a", "$b"]}, scope) is not evaluate({"==": ["$a", "$b"]}, scope)
    if isinstance(a, bool) and not isinstance(b, bool):
        assert not json_equal(a, b)


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.booleans() | st.none() | st.integers(-2, 2) | st.sampled_from(["", "x", "$flag", "$nothing"]),
    lambda inner: st.builds(lambda op, args: {op: args}, st.sampled_from(["and", "or"]),
                            st.lists(inner, min_size=1, max_size=3))
    | st.builds(lambda op, arg: {op: arg}, st.sampled_from(["!", "!!"]), inner),
    max_leaves=10,
))
def test_logic_matches_truthiness(cond: Any) -> None:
    """and/or/!/!! over generated trees agree with a direct reading of JSON Logic truthiness."""

    def expect(node: Any) -> bool:
        if isinstance(node, dict):
            (op, args), = node.items()
            if op == "and":
                return all(expect(a) for a in args)
            if op == "or":
                return any(expect(a) for a in args)
            return (not expect(args)) if op == "!" else expect(args)
        if node == "$flag":
            return True
        if node == "$nothing":
            return False
        return truthy(node)

    assert check(cond) == []
    assert evaluate(cond, SCOPE) is expect(cond)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_is_refused_cleanly_or_evaluated(cond: Any) -> None:
    """Hostile conditions: arbitrary JSON either evaluates to a bool or raises ConditionError."""
    try:
        assert evaluate(cond, SCOPE) in (True, False)
    except ConditionError as exc:
        assert exc.message


def test_operator_set_is_closed() -> None:
    assert OPERATORS == ("==", "!=", ">", ">=", "<", "<=", "in", "and", "or", "!", "!!")
