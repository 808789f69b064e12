"""References in params: syntax, self references, unknown names.

Returns the step-to-step references, which :func:`.order.check_order` then checks against the
ordering rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_wfo.definition.checks.context import Context, as_str
from airflow_provider_wfo.definition.control import RESPONSE_NAME, WAIT
from airflow_provider_wfo.definition.errors import json_path, suggestion
from airflow_provider_wfo.definition.references import Reference, find_references
from airflow_provider_wfo.definition.references import ReferenceError as RefError
from airflow_provider_wfo.definition.rules import (
    BUILTIN_SCOPE_NAMES,
    ITEM_SCOPE_NAMES,
    RESERVED_SCOPE_NAMES,
    RUN_FIELDS,
)

__all__ = ["StepRef", "check_references", "check_run_reference"]

RUN_NAME = "run"  # the one name in BUILTIN_SCOPE_NAMES


@dataclass
class StepRef:
    """A reference from a step (or its rollback) to another step's result."""

    step: str
    target: str
    location: str
    text: str
    rollback: bool


def _iter_refs(ctx: Context, params: Any, base: str, known: set[str]) -> Iterator[tuple[str, Any]]:
    if not isinstance(params, Mapping):
        return
    for key, value in params.items():
        where = json_path((str(key),), base)
        try:
            yield from find_references(value, known, where)
        except RefError as exc:
            ctx.add(exc.where or where, exc.message)


def check_references(ctx: Context) -> list[StepRef]:
    """Syntax, self references and unknown names; returns the step-to-step references."""
    steps_and_params = set(ctx.index) | set(ctx.declared) | set(BUILTIN_SCOPE_NAMES)
    rollback_known = steps_and_params | set(RESERVED_SCOPE_NAMES)
    strict_names = bool(ctx.declared)
    found: list[StepRef] = []
    for i, step in ctx.steps:
        sid = as_str(step.get("id"))
        own = sid if sid is not None and ctx.index.get(sid) == i else None
        base = f"steps[{i}].params"
        # A poll's condition reads the last response as $response (and only there).
        polls = step.get("target") == WAIT and step.get("action") == "poll"
        known = steps_and_params | {RESPONSE_NAME} if polls else steps_and_params
        # $item / $index: the current item in a forEach step; nowhere else (unless a param or step).
        items = set(ITEM_SCOPE_NAMES) if step.get("forEach") is not None else set()
        for where, ref in _iter_refs(ctx, step.get("params"), base, known | items):
            if polls and ref.name == RESPONSE_NAME and _inside(where, f"{base}.until"):
                continue
            if ref.name in items:
                continue
            if ref.name == RUN_NAME:
                check_run_reference(ctx, where, ref)
                continue
            if ref.name in ITEM_SCOPE_NAMES and ref.name not in steps_and_params:
                _no_item(ctx, where, ref.text, ref.name)
            elif ref.name == own:
                ctx.add(
                    where,
                    f"{ref.text!r} reads this step's own result, which does not exist while its "
                    "params are resolved",
                )
            elif ref.name in ctx.index:
                if own is not None:
                    found.append(StepRef(own, ref.name, where, ref.text, rollback=False))
            elif strict_names and ref.name not in ctx.declared and ref.name not in BUILTIN_SCOPE_NAMES:
                _unknown_name(ctx, where, ref.text, ref.name, steps_and_params)
        rollback = step.get("rollback")
        if not isinstance(rollback, Mapping):
            continue
        base = f"steps[{i}].rollback.params"
        for where, ref in _iter_refs(ctx, rollback.get("params"), base, rollback_known | items):
            if ref.name == RUN_NAME:
                check_run_reference(ctx, where, ref)
                continue
            if ref.name == own or ref.name in RESERVED_SCOPE_NAMES or ref.name in BUILTIN_SCOPE_NAMES:
                continue
            if ref.name in items:
                continue
            if ref.name in ITEM_SCOPE_NAMES and ref.name not in rollback_known:
                _no_item(ctx, where, ref.text, ref.name)
                continue
            if ref.name in ctx.index:
                if own is not None:
                    found.append(StepRef(own, ref.name, where, ref.text, rollback=True))
            elif strict_names and ref.name not in ctx.declared:
                _unknown_name(ctx, where, ref.text, ref.name, rollback_known)
    return found


def check_run_reference(ctx: Context, where: str, ref: Reference) -> None:
    """``$run`` is the run's facts: only its fields (``$run.runId``), which are text, nothing below."""
    if not ref.path:
        return  # the whole object
    field = ref.path[0]
    fields = ", ".join(f"run.{f}" for f in RUN_FIELDS)
    if field not in RUN_FIELDS:
        # "id" -> runId, "dag" -> dagId: the fields are short, so a part of one is a good guess too
        part = next((f for f in RUN_FIELDS if len(field) > 1 and field.lower() in f.lower()), None)
        hint = f"; did you mean {part!r}?" if part else suggestion(field, set(RUN_FIELDS))
        ctx.add(where, f"{ref.text!r}: $run has no field {field!r}{hint} (its fields: {fields})")
    elif len(ref.path) > 1:
        ctx.add(where, f"{ref.text!r}: run.{field} is {RUN_FIELDS[field]}; it has no fields")


def _inside(where: str, prefix: str) -> bool:
    return where == prefix or where.startswith((f"{prefix}.", f"{prefix}["))


def _unknown_name(ctx: Context, where: str, text: str, name: str, candidates: set[str]) -> None:
    ctx.add(
        where,
        f"{text!r}: {name!r} is neither a step id nor a declared param{suggestion(name, candidates)} "
        "(write $$ for a literal dollar sign)",
    )


def _no_item(ctx: Context, where: str, text: str, name: str) -> None:
    ctx.add(
        where,
        f"{text!r}: ${name} is {ITEM_SCOPE_NAMES[name]}, defined only in a forEach step's params and "
        "rollback; this step has no forEach",
    )
