"""Conditions (``when``; ``wait.poll``'s ``until``): a closed subset of JSON Logic over JSON data.

A condition is a JSON value:

* an **operator node**, an object with exactly one key, the operator, whose value is its operands:
  - comparisons ``==`` ``!=`` ``>`` ``>=`` ``<`` ``<=`` ``in``: a list of exactly two operands;
  - ``and`` / ``or``: a list of one or more operands (they short-circuit);
  - ``!`` / ``!!``: one operand, written bare or as a one-item list;
* or an **operand**: a JSON literal, a list of operands, or a string in the reference language of
  :mod:`.references` (``"$check.priority"``, ``"$amount"``, ``"Order-$id"``; ``$$`` for a dollar).
  A bare operand as the whole condition means ``{"!!": operand}``.

Nothing is evaluated but these operators: there is no ``var``, no eval, no Jinja, no attribute
access; a reference walks JSON keys and list indexes only. The rules are strict where JSON Logic
follows JavaScript:

* ``==`` / ``!=`` is JSON equality: ``1 == 1.0``, but ``true != 1`` and ``"1" != 1``.
* ``>`` ``>=`` ``<`` ``<=`` compare two numbers or two strings; anything else (``null`` included)
  is a :class:`ConditionError`, not a silent ``false``.
* ``in``: membership when the right side is a list, substring when both sides are strings.
* Truthiness (``!``, ``!!``, ``and``, ``or``) is JSON Logic's: ``null false 0 "" []`` are false,
  everything else (``{}`` too) is true. Every operator node gives a boolean.

The module is pure (it imports only :mod:`.references`), so the validator, the step operators and
the triggerer all use the same function.
"""

from __future__ import annotations

import difflib
from collections.abc import Container, Iterator, Mapping
from typing import Any

from airflow_provider_wfo.definition.references import (
    MAX_DEPTH,
    Reference,
    find_references,
    resolve_string,
)
from airflow_provider_wfo.definition.references import (
    ReferenceError as RefError,
)

__all__ = [
    "COMPARISONS",
    "JSON_SCHEMA_DEFS",
    "LOGIC",
    "OPERATORS",
    "ConditionError",
    "check",
    "evaluate",
    "references",
    "resolved",
    "truthy",
]

COMPARISONS = ("==", "!=", ">", ">=", "<", "<=", "in")
LOGIC = ("and", "or", "!", "!!")
OPERATORS = COMPARISONS + LOGIC
_UNARY = frozenset({"!", "!!"})
_VARIADIC = frozenset({"and", "or"})
_ORDERING = frozenset({">", ">=", "<", "<="})


def _schema_defs() -> dict[str, Any]:
    """JSON Schema ``$defs`` of a condition (recursive; ``wfo validate`` also reports the place)."""
    cond = {"$ref": "#/$defs/Condition"}
    pair = {"type": "array", "minItems": 2, "maxItems": 2, "items": cond}
    some = {"type": "array", "minItems": 1, "items": cond}
    one = {"anyOf": [{"type": "array", "minItems": 1, "maxItems": 1, "items": cond}, cond]}
    props: dict[str, Any] = {op: pair for op in COMPARISONS}
    props.update({"and": some, "or": some, "!": one, "!!": one})
    return {
        "Condition": {
            "description": 'A condition: an operator node ({"op": operands}, one key; operators '
            + " ".join(OPERATORS)
            + "), or an operand (a JSON literal, a list, or a reference string such as $check.priority).",
            "anyOf": [
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": props,
                    "additionalProperties": False,
                },
                {"type": ["string", "number", "boolean", "null"]},
                {"type": "array", "items": cond},
            ],
        }
    }


#: The ``$defs`` the JSON Schema of a definition uses for ``when`` (definition/schema.py).
JSON_SCHEMA_DEFS: dict[str, Any] = _schema_defs()


class ConditionError(ValueError):
    """A condition that is malformed, or whose operands cannot be compared. ``where`` is a JSON path
    such as ``when.and[1].>[0]``."""

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _operator_of(node: Mapping[Any, Any], where: str) -> tuple[str, Any]:
    if len(node) != 1:
        keys = ", ".join(repr(str(k)) for k in list(node)[:5]) or "none"
        raise ConditionError(
            f"an operator node has exactly one key, the operator; this one has {len(node)} ({keys}). "
            'Combine conditions with {"and": [...]} or {"or": [...]}',
            where,
        )
    op, args = next(iter(node.items()))
    op = str(op)
    if op not in OPERATORS:
        near = difflib.get_close_matches(op, OPERATORS, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConditionError(f"unknown operator {op[:40]!r}{hint} (operators: {' '.join(OPERATORS)})", where)
    return op, args


def _operands(op: str, args: Any, where: str) -> list[tuple[Any, str]]:
    """The operand list of an operator node, with each operand's path; checks the arity."""
    here = f"{where}.{op}" if where else op
    if op in _UNARY:
        if isinstance(args, list):
            if len(args) != 1:
                raise ConditionError(f"{op!r} takes one operand, not {len(args)}", here)
            return [(args[0], f"{here}[0]")]
        return [(args, here)]
    if not isinstance(args, list):
        raise ConditionError(
            f"{op!r} takes a list of operands, not {_describe(args)}: write {{{op!r}: [a, b]}}"
            if op not in _VARIADIC
            else f"{op!r} takes a list of one or more conditions, not {_describe(args)}",
            here,
        )
    if op in _VARIADIC:
        if not args:
            raise ConditionError(f"{op!r} takes one or more conditions, not none", here)
    elif len(args) != 2:
        raise ConditionError(f"{op!r} compares exactly two operands, not {len(args)}", here)
    return [(arg, f"{here}[{i}]") for i, arg in enumerate(args)]


def check(cond: Any, where: str = "when") -> list[ConditionError]:
    """Every structural problem of a condition (unknown operator, arity, depth, reference syntax),
    without evaluating anything. An empty list means :func:`evaluate` can run it."""
    issues: list[ConditionError] = []
    stack: list[tuple[Any, str, int]] = [(cond, where, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            issues.append(ConditionError(f"nested deeper than {MAX_DEPTH} levels", path))
            continue
        if isinstance(node, Mapping):
            try:
                op, args = _operator_of(node, path)
                children = _operands(op, args, path)
            except ConditionError as exc:
                issues.append(exc)
                continue
            stack.extend((child, child_path, depth + 1) for child, child_path in reversed(children))
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, str) and "$" in node:
            try:
                list(find_references(node, None, path))
            except RefError as exc:
                issues.append(ConditionError(exc.message, exc.where or path))
    return issues


def references(
    cond: Any, known: Container[str] | None = None, where: str = "when"
) -> Iterator[tuple[str, Reference]]:
    """Every reference in a condition's operands, with its path (for the validator's name and order
    checks). Raises :class:`ConditionError` on a malformed reference."""
    try:
        yield from find_references(cond, known, where)
    except RefError as exc:
        raise ConditionError(exc.message, exc.where or where) from None


def truthy(value: Any) -> bool:
    """JSON Logic truthiness: ``null false 0 "" []`` are false; everything else, ``{}`` too, is true."""
    if isinstance(value, dict):
        return True
    return bool(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON values: numbers by value, but a boolean equals only a boolean."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _compare(op: str, left: Any, right: Any, where: str) -> bool:
    if op == "==":
        return json_equal(left, right)
    if op == "!=":
        return not json_equal(left, right)
    if op == "in":
        if isinstance(right, list):
            return any(json_equal(left, item) for item in right)
        if isinstance(right, str) and isinstance(left, str):
            return left in right
        raise ConditionError(
            f"'in' needs a list, or two strings (substring); got {_describe(left)} in {_describe(right)}",
            where,
        )
    numbers = _is_number(left) and _is_number(right)
    strings = isinstance(left, str) and isinstance(right, str)
    if not (numbers or strings):
        raise ConditionError(
            f"{op!r} compares two numbers or two strings; got {_describe(left)} and {_describe(right)}",
            where,
        )
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _value(node: Any, scope: Mapping[str, Any], where: str, depth: int) -> Any:
    """The JSON value of an operand (an operator node gives its boolean)."""
    if depth > MAX_DEPTH:
        raise ConditionError(f"nested deeper than {MAX_DEPTH} levels", where)
    if isinstance(node, Mapping):
        return _node(node, scope, where, depth)
    if isinstance(node, list):
        return [_value(item, scope, f"{where}[{i}]", depth + 1) for i, item in enumerate(node)]
    if isinstance(node, str):
        try:
            return resolve_string(node, scope, where)
        except RefError as exc:
            raise ConditionError(exc.message, exc.where or where) from None
    return node


def _node(node: Mapping[Any, Any], scope: Mapping[str, Any], where: str, depth: int) -> bool:
    op, args = _operator_of(node, where)
    operands = _operands(op, args, where)
    here = f"{where}.{op}" if where else op
    if op == "and":
        return all(truthy(_value(arg, scope, path, depth + 1)) for arg, path in operands)
    if op == "or":
        return any(truthy(_value(arg, scope, path, depth + 1)) for arg, path in operands)
    if op in _UNARY:
        arg, path = operands[0]
        value = truthy(_value(arg, scope, path, depth + 1))
        return not value if op == "!" else value
    (left, left_path), (right, right_path) = operands
    return _compare(
        op, _value(left, scope, left_path, depth + 1), _value(right, scope, right_path, depth + 1), here
    )


def evaluate(cond: Any, scope: Mapping[str, Any], where: str = "when") -> bool:
    """Whether ``cond`` holds over ``scope`` (names -> JSON values, as for params). Pure.

    Raises :class:`ConditionError` (with the operand's path) for a malformed condition, an unknown
    or unresolvable reference, or operands an operator cannot compare.
    """
    return truthy(_value(cond, scope, where, 0))


def resolved(cond: Any, scope: Mapping[str, Any], where: str = "when") -> Any:
    """The condition with every operand string replaced by its value, for the record of why a step
    was skipped. Operands that cannot be resolved stay as written. Never raises."""

    def walk(node: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return node
        if isinstance(node, Mapping):
            return {str(k): walk(v, f"{path}.{k}", depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node)]
        if isinstance(node, str):
            try:
                return resolve_string(node, scope, path)
            except RefError:
                return node
        return node

    return walk(cond, where, 0)
