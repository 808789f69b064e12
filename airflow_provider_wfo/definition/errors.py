"""The one error type of the definition language, and the translation of pydantic's errors into it.

Every problem with a definition is a :class:`ValidationIssue`: a location (a JSON path such as
``steps[2].dependsOn[0]``, or ``line 3, column 5`` for a syntax error) and a message written for
the person who wrote the file. Raw pydantic messages and tracebacks never reach that person.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_provider_wfo.definition.models import RollbackAction, WorkflowDefinition, WorkflowStep

#: Where an issue about the document as a whole is reported (empty file, not an object, ...).
DOCUMENT = "(document)"

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


@dataclass(frozen=True)
class ValidationIssue:
    """One problem: where it is (JSON path or line/column) and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class DefinitionError(ValueError):
    """A workflow definition that cannot be loaded or is not valid.

    ``issues`` lists every problem found (not only the first); ``source`` names the file, when
    there is one. ``str(error)`` is a readable multi-line summary, never a traceback.
    """

    def __init__(self, issues: Sequence[ValidationIssue], source: str | None = None) -> None:
        self.issues: list[ValidationIssue] = list(issues) or [
            ValidationIssue(DOCUMENT, "invalid workflow definition")
        ]
        self.source = source
        super().__init__(self._summary())

    def __reduce__(self) -> tuple[type[DefinitionError], tuple[list[ValidationIssue], str | None]]:
        return (type(self), (self.issues, self.source))

    def _summary(self) -> str:
        head = f"invalid workflow definition{f' {self.source}' if self.source else ''}"
        shown = self.issues[:20]
        lines = [f"{head}: {len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}"]
        lines += [f"  {issue}" for issue in shown]
        if len(self.issues) > len(shown):
            lines.append(f"  ... and {len(self.issues) - len(shown)} more")
        return "\n".join(lines)


#: Keys longer than this are cut in locations and messages (hostile input cannot flood a line).
_MAX_SHOWN_KEY = 60


def json_path(parts: Iterable[str | int], root: str = "") -> str:
    """``("steps", 2, "dependsOn", 0)`` -> ``steps[2].dependsOn[0]``; odd keys are quoted, and keys
    over 60 characters are cut (``"xxx..."``)."""
    out = root
    for part in parts:
        if isinstance(part, str) and len(part) > _MAX_SHOWN_KEY:
            part = part[: _MAX_SHOWN_KEY - 3] + "..."
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or DOCUMENT


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The nearest candidate, also matching ``depends_on`` or ``DependsOn`` to ``dependsOn``."""
    pool = list(candidates)
    folded = {c.replace("_", "").replace("-", "").lower(): c for c in pool}
    key = word.replace("_", "").replace("-", "").lower()
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.7)
    return folded[close[0]] if close else None


def suggestion(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or an empty string."""
    near = did_you_mean(word, candidates)
    return f"; did you mean {near!r}?" if near else ""


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: ``the string "3"``, ``the number 2.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """Which model holds the key at ``loc`` (the loc of an unknown or missing key)."""
    parent = list(loc[:-1])
    if not parent:
        return WorkflowDefinition
    if len(parent) == 2 and parent[0] == "steps" and isinstance(parent[1], int):
        return WorkflowStep
    if len(parent) == 3 and parent[0] == "steps" and parent[2] == "rollback":
        return RollbackAction
    return None


_EXPECTED: Mapping[str, str] = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}

_BOUNDS: Mapping[str, str] = {
    "greater_than_equal": "at least {ge}",
    "greater_than": "greater than {gt}",
    "less_than_equal": "at most {le}",
    "less_than": "less than {lt}",
}


def _translate(error: Mapping[str, Any]) -> ValidationIssue:
    loc: tuple[str | int, ...] = tuple(p for p in error.get("loc", ()) if isinstance(p, (str, int)))
    kind = str(error.get("type", ""))
    value = error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    where = json_path(loc)
    key = loc[-1] if loc else ""
    if kind == "extra_forbidden" and isinstance(key, str):
        model = _model_at(loc)
        known = _aliases(model) if model else []
        if len(key) > _MAX_SHOWN_KEY:  # the location shows its start already; never echo it twice
            return ValidationIssue(where, f"unknown key ({len(key):,} characters)")
        hint = suggestion(key, known)
        if not hint and known:
            hint = f" (known keys: {', '.join(sorted(known))})"
        return ValidationIssue(where, f"unknown key {key!r}{hint}")
    if kind == "missing":
        return ValidationIssue(where, f"required key {key!r} is missing")
    if kind in _EXPECTED:
        return ValidationIssue(where, f"expected {_EXPECTED[kind]}, got {describe(value)}")
    if kind in _BOUNDS:
        bound = _BOUNDS[kind].format(**{k: ctx.get(k) for k in ("ge", "gt", "le", "lt")})
        if key == "timeout" and kind == "greater_than_equal":  # ms; 0 would stop every attempt at once
            bound += " ms (leave timeout out for no time limit)"
        return ValidationIssue(where, f"must be {bound}, got {describe(value)}")
    if kind == "finite_number":
        return ValidationIssue(where, f"must be a finite number, got {describe(value)}")
    if kind in ("string_too_short", "too_short"):
        return ValidationIssue(where, "must not be empty")
    return ValidationIssue(where, f"invalid value ({kind or 'unknown problem'}): {describe(value)}")


def issues_from_pydantic(exc: ValidationError) -> list[ValidationIssue]:
    """Readable issues for every error pydantic found, in document order."""
    return [_translate(error) for error in exc.errors(include_url=False, include_context=True)]
