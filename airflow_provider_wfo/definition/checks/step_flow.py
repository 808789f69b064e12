"""Control flow on a step: ``when`` (a condition), ``forEach`` (a list reference), ``maxConcurrency``.

Returns the step-to-step references they make, which :func:`.order.check_order` checks against the
ordering rule like those in params: a condition or a list may only read steps upstream of its step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.definition import conditions
from airflow_provider_wfo.definition.checks.context import Context, as_str, clip
from airflow_provider_wfo.definition.checks.refs import RUN_NAME, StepRef, check_run_reference
from airflow_provider_wfo.definition.control import is_control
from airflow_provider_wfo.definition.errors import json_path, suggestion
from airflow_provider_wfo.definition.references import Reference, parse
from airflow_provider_wfo.definition.references import ReferenceError as RefError
from airflow_provider_wfo.definition.rules import BUILTIN_SCOPE_NAMES, ITEM_SCOPE_NAMES

__all__ = ["check_step_flow", "for_each_steps"]

_ITEM_SUFFIX = re.compile(r"(?P<base>.+)_(?P<index>[0-9]+)")


def for_each_steps(ctx: Context) -> dict[str, int]:
    """Step id -> position of every step that has ``forEach``."""
    found: dict[str, int] = {}
    for i, step in ctx.steps:
        sid = as_str(step.get("id"))
        if sid is not None and ctx.index.get(sid) == i and step.get("forEach") is not None:
            found[sid] = i
    return found


def check_step_flow(ctx: Context) -> list[StepRef]:
    """``when``, ``forEach`` and ``maxConcurrency`` of every step, and the names forEach reserves."""
    mapped = for_each_steps(ctx)
    found: list[StepRef] = []
    for i, step in ctx.steps:
        sid = as_str(step.get("id"))
        own = sid if sid is not None and ctx.index.get(sid) == i else None
        if "when" in step and step["when"] is not None:
            found += _check_when(ctx, i, own, step["when"], own in mapped)
        raw = step.get("forEach")
        if raw is not None and is_control(step.get("target")):
            ctx.add(
                f"steps[{i}].forEach",
                f"forEach runs an action once per item; a {step.get('target')} step cannot (put the "
                "forEach on the action steps around it)",
            )
        elif raw is not None:
            found += _check_for_each(ctx, i, own, raw)
        elif step.get("maxConcurrency") is not None:
            ctx.add(
                f"steps[{i}].maxConcurrency",
                "maxConcurrency limits how many items of a forEach step run at once; this step has no "
                "forEach (remove maxConcurrency, or add forEach)",
            )
    if mapped:
        _check_item_names(ctx, mapped)
    return found


def _check_when(ctx: Context, i: int, own: str | None, cond: Any, for_each: bool) -> list[StepRef]:
    base = f"steps[{i}].when"
    issues = conditions.check(cond, base)
    for issue in issues:
        ctx.add(issue.where, issue.message)
    if issues:
        return []
    known = set(ctx.index) | set(ctx.declared) | set(BUILTIN_SCOPE_NAMES)
    refs: list[StepRef] = []
    for where, ref in conditions.references(cond, known, base):
        if ref.name == RUN_NAME:
            check_run_reference(ctx, where, ref)
            continue
        step_ref = _name_check(ctx, where, own, ref, "condition")
        if step_ref is not None:
            refs.append(step_ref)
        elif ref.name in ITEM_SCOPE_NAMES and ref.name not in known:
            hint = (
                "a forEach step's condition is checked once, before its items run"
                if for_each
                else "only a forEach step's params and rollback have an item"
            )
            ctx.add(where, f"{ref.text!r}: ${ref.name} is not defined in a condition ({hint})")
    return refs


def _name_check(ctx: Context, where: str, own: str | None, ref: Reference, what: str) -> StepRef | None:
    """A reference to a step becomes a StepRef; a reference to this step itself, or to an unknown
    name when params are declared, is reported."""
    if ref.name == own:
        ctx.add(where, f"{ref.text!r}: a step's {what} cannot read the step's own result (not made yet)")
        return None
    if ref.name in ctx.index:
        return StepRef(own, ref.name, where, ref.text, rollback=False) if own is not None else None
    if ref.name in ctx.declared or ref.name in BUILTIN_SCOPE_NAMES or ref.name in ITEM_SCOPE_NAMES:
        return None
    if ctx.declared:
        candidates = set(ctx.index) | set(ctx.declared)
        ctx.add(
            where,
            f"{ref.text!r}: {ref.name!r} is neither a step id nor a declared param"
            f"{suggestion(ref.name, candidates)} (write $$ for a literal dollar sign)",
        )
    return None


def _check_for_each(ctx: Context, i: int, own: str | None, raw: Any) -> list[StepRef]:
    where = f"steps[{i}].forEach"
    text = as_str(raw)
    if text is None:
        return []  # pydantic reports the type
    known = set(ctx.index) | set(ctx.declared) | set(BUILTIN_SCOPE_NAMES)
    try:
        pieces = parse(text, known)
    except RefError as exc:
        ctx.add(where, exc.message)
        return []
    if len(pieces) != 1 or not isinstance(pieces[0], Reference) or pieces[0].filters:
        ctx.add(
            where,
            f'forEach is one reference to a list, such as "$travellers" or "$search.results"; '
            f"got {clip(repr(text), 80)}",
        )
        return []
    ref = pieces[0]
    if ref.name in ITEM_SCOPE_NAMES and ref.name not in known:
        ctx.add(where, f"{ref.text!r}: ${ref.name} is an item of a forEach list, not a list to map over")
        return []
    schema = ctx.declared.get(ref.name)
    if not ref.path and isinstance(schema, Mapping):
        declared_type = schema.get("type")
        types = declared_type if isinstance(declared_type, list) else [declared_type]
        if declared_type is not None and "array" not in types:
            ctx.add(
                where,
                f"{ref.text!r}: param {ref.name!r} is declared with type {declared_type!r}; forEach needs "
                'a list (declare it with "type": "array")',
            )
    step_ref = _name_check(ctx, where, own, ref, "forEach list")
    return [step_ref] if step_ref is not None else []


def _check_item_names(ctx: Context, mapped: Mapping[str, int]) -> None:
    """Names that would be ambiguous beside a forEach step."""
    first = next(iter(mapped))
    for name, meaning in ITEM_SCOPE_NAMES.items():
        if name in ctx.index:
            ctx.add(
                f"steps[{ctx.index[name]}].id",
                f"step id {name!r} is reserved in a workflow with a forEach step: ${name} reads "
                f"{meaning} there (step {first!r}); choose another id",
            )
        if name in ctx.declared:
            ctx.add(
                json_path(("params", name)),
                f"param name {name!r} is reserved in a workflow with a forEach step: ${name} reads "
                f"{meaning} there (step {first!r}); rename the param",
            )
    for sid, position in ctx.index.items():
        match = _ITEM_SUFFIX.fullmatch(sid)
        if match and match["base"] in mapped:
            ctx.add(
                f"steps[{position}].id",
                f"step id {sid!r} clashes with item {match['index']} of forEach step {match['base']!r} "
                f"(Airflow names that item {sid!r} too); choose another id",
            )
