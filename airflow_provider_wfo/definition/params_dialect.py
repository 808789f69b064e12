"""The JSON Schema dialect of declared params: JSON Schema 2020-12 with ``pattern`` run by RE2.

Airflow validates run conf against each param's schema with ``jsonschema`` -- at parse time, when
the trigger form loads a DAG's params, and in the api-server for every trigger. ``jsonschema``
runs ``pattern`` with Python's backtracking ``re``, so a pattern such as ``(a|aa)+$`` and a
61-character value would hold a worker of the api-server for hours (issue 12, case 4). This module
registers a dialect whose ``pattern`` keyword runs on RE2 (``google-re2``: linear time in the
length of the value, whatever the pattern). The DAG factory stamps every param schema with
:data:`DIALECT_ID` as its ``$schema``, and ``jsonschema.validate`` picks the validator by
``$schema``, so every process that imports this module (the dag-processor and workers through the
factory, the api-server through the plugin) checks patterns in linear time.

What the dialect cannot make linear is refused at validate time instead
(:func:`schema_problems`): patterns RE2 cannot compile (backreferences, lookaround), and
``patternProperties``, whose regexes ``jsonschema`` also applies inside ``additionalProperties``
and ``unevaluatedProperties``. Remote references are refused there too: ``jsonschema`` would fetch
them over the network at validate, parse and trigger time (case 3).

The dialect's ``number`` and ``integer`` types also refuse NaN and Infinity, which Python's JSON reader
accepts in a REST trigger's conf.

``patternMessage`` (a string next to ``pattern``) is the human message shown when a value does not
match, in place of the raw regex.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = [
    "DIALECT_ID",
    "PATTERN_MESSAGE",
    "ParamsValidator",
    "pattern_problem",
    "schema_problems",
    "with_dialect",
]

#: The ``$schema`` of every param schema in a generated DAG.
DIALECT_ID = "urn:airflow-provider-wfo:params-schema:2020-12-re2"
#: What a definition may write as its own ``$schema`` for a param: 2020-12 (or our dialect).
ALLOWED_SCHEMA_IDS = (
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
    DIALECT_ID,
)
#: The param schema key holding the message for a value that does not match ``pattern``.
PATTERN_MESSAGE = "patternMessage"

_REFERENCE_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
#: Keywords whose values are data, not schemas: never walked for references or patterns.
_DATA_KEYS = frozenset({"default", "const", "enum", "examples"})
#: Keywords whose values map names to schemas (a property may be called "default" or "$ref").
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "dependentSchemas", "patternProperties"})

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, options=_OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot run ``pattern`` (None when it can)."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        return text
    return None


class PatternMismatch(ValidationError):  # type: ignore[misc]
    """A value that does not match ``pattern``; its text is only the message.

    Airflow shows ``str(error)`` to the user who triggered the run; jsonschema's long form would
    print the whole schema, raw regex included, after the human message.
    """

    def __str__(self) -> str:
        return str(self.message)


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if not validator.is_type(instance, "string") or not isinstance(pattern, str):
        return
    try:
        matched = _compiled(pattern).search(instance) is not None
    except re2.error:  # refused at validate time; a hand-built DAG still gets an answer, not a hang
        yield PatternMismatch(f"the pattern {pattern!r} cannot be checked (RE2 cannot compile it)")
        return
    if not matched:
        human = schema.get(PATTERN_MESSAGE)
        shown = instance if len(instance) <= 80 else instance[:77] + "..."
        text = (
            f"{shown!r}: {human}"
            if isinstance(human, str) and human
            else f"{shown!r} does not match {pattern!r}"
        )
        yield PatternMismatch(text)


def _finite(checker: Any, instance: Any, base: str) -> bool:
    return bool(Draft202012Validator.TYPE_CHECKER.is_type(instance, base)) and not (
        isinstance(instance, float) and not math.isfinite(instance)
    )


#: ``number`` and ``integer`` exclude NaN and Infinity: Python's JSON reader accepts them in a REST
#: trigger's conf, and they are not JSON numbers (Airflow hands them to tasks as null).
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {
        "number": lambda checker, instance: _finite(checker, instance, "number"),
        "integer": lambda checker, instance: _finite(checker, instance, "integer"),
    }
)

#: The dialect's meta-schema: 2020-12 itself (a reference the offline registry of
#: ``jsonschema_specifications`` resolves), under our own id.
_META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": DIALECT_ID,
    "$ref": "https://json-schema.org/draft/2020-12/schema",
}

#: The validator class of the dialect (registered with jsonschema under :data:`DIALECT_ID`).
ParamsValidator: Any = validators.create(
    meta_schema=_META_SCHEMA,
    validators={**Draft202012Validator.VALIDATORS, "pattern": _pattern},
    version="wfo-params-2020-12-re2",
    type_checker=_TYPES,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
    id_of=Draft202012Validator.ID_OF,
)


def with_dialect(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$schema`` set to the dialect (what the DAG factory gives Airflow)."""
    return {**schema, "$schema": DIALECT_ID}


def schema_problems(schema: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(path inside the schema, message) for what would fetch, backtrack or escape the dialect.

    Iterative (a schema may nest as deep as the definition allows); data keywords (``default``,
    ``enum``, ...) are not walked, since they hold values, not schemas.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    declared = schema.get("$schema")
    if declared is not None and declared not in ALLOWED_SCHEMA_IDS:
        problems.append(
            (
                ("$schema",),
                f"{str(declared)[:100]!r} is not supported: params use JSON Schema 2020-12; remove $schema",
            )
        )
    # (path, node, whether node is a name -> schema map)
    stack: list[tuple[tuple[str | int, ...], Any, bool]] = [((), schema, False)]
    while stack:
        path, node, is_map = stack.pop()
        if isinstance(node, list):
            stack.extend(((*path, i), item, False) for i, item in enumerate(node))
            continue
        if not isinstance(node, Mapping):
            continue
        if is_map:
            stack.extend(((*path, str(k)), v, False) for k, v in node.items())
            continue
        if path and "$schema" in node:
            # jsonschema switches to the dialect a subschema names: one with Python's regexes.
            problems.append(((*path, "$schema"), "$schema may only be given at the top of a param schema"))
        for key in _REFERENCE_KEYS:
            ref = node.get(key)
            if isinstance(ref, str) and not ref.startswith("#"):
                problems.append(
                    (
                        (*path, key),
                        f"{ref[:100]!r} is not a local reference: validation and parsing never fetch "
                        "a schema from the network; copy it under $defs and refer to it as "
                        "'#/$defs/<name>'",
                    )
                )
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            reason = pattern_problem(pattern)
            if reason is not None:
                problems.append(
                    (
                        (*path, "pattern"),
                        f"the linear-time regex engine (RE2) cannot run this pattern ({reason}); "
                        "backreferences and lookaround are not supported",
                    )
                )
        if "patternProperties" in node and isinstance(node["patternProperties"], Mapping):
            problems.append(
                (
                    (*path, "patternProperties"),
                    "patternProperties is not supported in params (Airflow would run its regexes "
                    "on a backtracking engine); list the keys under properties, or use "
                    "propertyNames with a pattern",
                )
            )
        for key, value in node.items():
            if key not in _DATA_KEYS and isinstance(value, (Mapping, list)):
                stack.append(((*path, key), value, key in _SCHEMA_MAPS))
    return sorted(problems, key=lambda p: [str(x) for x in p[0]])
