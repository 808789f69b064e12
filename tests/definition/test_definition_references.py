"""The reference language of references.py: $name, $name.path, ${name.path}, $$."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.definition.references import (
    MAX_DEPTH,
    Reference,
    ReferenceError,
    find_references,
    parse,
    resolve,
    resolve_string,
)

SCOPE: dict[str, Any] = {
    "orderId": "ORD-2025-001",
    "amount": 1500.0,
    "count": 3,
    "flags": [True, False],
    "create-order": {"webViewLink": "https://drive/x", "fileId": "f1", "size": 42, "meta": {"pages": 2}},
    "step-1": {"value": 7},
    "extract": {"rows": [{"id": 1}, {"id": 2}], "empty": None},
    "evil": "{{ 7*7 }} ${{ x }} __class__ __import__('os')",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$count", 3),
        ("$amount", 1500.0),
        ("$flags", [True, False]),
        ("$create-order", SCOPE["create-order"]),
        ("$create-order.size", 42),
        ("${create-order.meta}", {"pages": 2}),
        ("$extract.rows", [{"id": 1}, {"id": 2}]),
        ("$extract.rows.1.id", 2),
        ("$extract.empty", None),
    ],
)
def test_a_whole_string_reference_keeps_the_json_type(text: str, expected: Any) -> None:
    assert resolve_string(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Order $orderId created", "Order ORD-2025-001 created"),
        ("Order-$orderId.pdf", "Order-ORD-2025-001.pdf"),  # traversal stops at a string
        ("${orderId}.pdf", "ORD-2025-001.pdf"),
        ("$count items", "3 items"),
        ("$count.5", "3.5"),
        ("pages: $create-order.meta", 'pages: {"pages":2}'),
        ("rows=$extract.rows", 'rows=[{"id":1},{"id":2}]'),
        ("$step-1-done", '{"value":7}-done'),  # longest known hyphenated name, rest is text
        ("${step-1.value}-done", "7-done"),
        ("File: $create-order.webViewLink", "File: https://drive/x"),
        ("cost: $$5, id $$orderId", "cost: $5, id $orderId"),
        ("$5 and a trailing $", "$5 and a trailing $"),
        ("no references", "no references"),
    ],
)
def test_interpolation(text: str, expected: str) -> None:
    assert resolve_string(text, SCOPE) == expected


def test_hyphenated_step_ids() -> None:
    pieces = parse("$create-order.webViewLink", known={"create-order"})
    assert pieces == [Reference("create-order", ("webViewLink",), "$create-order.webViewLink")]
    assert resolve({"fields": [{"title": "File", "value": "$create-order.webViewLink"}]}, SCOPE) == {
        "fields": [{"title": "File", "value": "https://drive/x"}]
    }


def test_missing_field_is_an_error_that_lists_the_fields() -> None:
    with pytest.raises(ReferenceError) as info:
        resolve({"x": ["$create-order.webViewLnk"]}, SCOPE)
    message = str(info.value)
    assert info.value.where == "params.x[0]"
    assert "'create-order' has no field 'webViewLnk'" in message
    assert "fileId, meta, size, webViewLink" in message


def test_index_outside_a_list_and_unknown_names_are_errors() -> None:
    with pytest.raises(ReferenceError, match="list of 2 items"):
        resolve_string("$extract.rows.5", SCOPE)
    with pytest.raises(ReferenceError, match="neither a completed step nor a run-conf key"):
        resolve_string("$nobody", SCOPE)
    with pytest.raises(ReferenceError, match="has no field"):
        resolve_string("${orderId.x}", SCOPE)  # braces say the whole thing is a path
    with pytest.raises(ReferenceError, match="malformed reference"):
        resolve_string("${orderId", SCOPE)


@pytest.mark.parametrize(
    "payload", ["{{ 7*7 }}", "__class__", "${{ x }}", "{% for x in y %}", "$evil.__class__"]
)
def test_templates_and_attributes_stay_inert(payload: str) -> None:
    scope = {**SCOPE, "note": payload}
    assert resolve_string("$note", scope) == payload
    assert resolve_string("note: $note", scope) == f"note: {payload}"
    assert resolve_string("$evil", SCOPE) == SCOPE["evil"]
    # attribute-looking paths are looked up as JSON keys, never as Python attributes
    with pytest.raises(ReferenceError):
        resolve_string("$create-order.__class__", SCOPE)
    assert resolve_string("$orderId.__class__", SCOPE) == "ORD-2025-001.__class__"


def test_resolve_copies_and_keeps_structure() -> None:
    params = {"a": ["$count", {"b": "$orderId"}], "n": 5, "none": None}
    out = resolve(params, SCOPE)
    assert out == {"a": [3, {"b": "ORD-2025-001"}], "n": 5, "none": None}
    assert params["a"][0] == "$count"


def test_find_references_walks_json_with_paths() -> None:
    params = {"a": ["x $orderId", {"b": "${create-order.fileId}"}], "c": "$$literal"}
    found = [
        (where, ref.name, ref.path) for where, ref in find_references(params, {"create-order"}, "params")
    ]
    assert found == [("params.a[0]", "orderId", ()), ("params.a[1].b", "create-order", ("fileId",))]


def test_depth_is_bounded() -> None:
    value: Any = "$orderId"
    for _ in range(MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(ReferenceError, match="nested deeper"):
        resolve(value, SCOPE)
    with pytest.raises(ReferenceError, match="nested deeper"):
        list(find_references(value))


def test_filters_are_a_closed_set() -> None:
    scope = {"attendees": ["a@x", "b@x"], "severity": "High"}
    assert resolve_string("${attendees|join}", scope) == "a@x, b@x"
    assert resolve_string("${severity|lower}", scope) == "high"
    with pytest.raises(ReferenceError, match="unknown filter"):
        resolve_string("${severity|title}", scope)
    with pytest.raises(ReferenceError):
        resolve_string("${severity|__class__}", scope)
