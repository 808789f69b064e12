"""The validate-time check of built-in steps (the implementation behind definition/checks/actions.py).

The models are the connectors' declarations (:mod:`airflow_provider_wfo.connectors.catalog`), which
import only pydantic: no SDK, no network. Reported as errors: an unknown key (with the nearest
name: ``nmae`` -> ``name``), a missing required key, a value of the wrong type. A string holding a
reference (``$x``, ``${x.y}``) is accepted for any field; its value is checked when the step runs.
A reference is refused only where a field must be written literally (an opt-in such as
``valueInputOption``, which whoever triggers a run must not switch on).

An unknown target or action is a warning (:class:`UnknownActionWarning`), since it may be
registered from Python before the DAG is built; it names the nearest built-in. Under
:func:`strict_actions` (``wfo validate --strict``) it is an error. A step whose target and action
a user registered (``register_action``) is not checked: that function decides its own params.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from airflow_provider_wfo.connectors import catalog
from airflow_provider_wfo.connectors.spec import Params, literal_only
from airflow_provider_wfo.definition.checks.actions import UnknownActionWarning, is_strict
from airflow_provider_wfo.definition.checks.context import Context, as_str, clip
from airflow_provider_wfo.definition.control import is_control
from airflow_provider_wfo.definition.references import Reference, ReferenceError, parse

__all__ = ["check_actions", "params_issues", "params_schema"]


def is_reference(text: str) -> bool:
    if "$" not in text:
        return False
    try:
        return any(isinstance(piece, Reference) for piece in parse(text))
    except ReferenceError:
        return True  # malformed: the references check reports it


def _user_registered(target: str, action: str) -> bool:
    from airflow_provider_wfo.actions import registry

    return (target, action) in registry._user_actions


def check_actions(ctx: Context) -> None:
    for i, step in ctx.steps:
        _check(ctx, f"steps[{i}]", step)
        rollback = step.get("rollback")
        if isinstance(rollback, Mapping):
            _check(ctx, f"steps[{i}].rollback", rollback)


def _unknown(ctx: Context, location: str, message: str) -> None:
    if is_strict():
        ctx.add(location, message)
    else:
        warnings.warn(UnknownActionWarning(f"{location}: {message}"), stacklevel=2)


def _check(ctx: Context, where: str, step: Mapping[str, Any]) -> None:
    target, action = as_str(step.get("target")), as_str(step.get("action"))
    if target is None or action is None or _user_registered(target, action):
        return
    if is_control(target):
        return  # wait, approval, workflow: definition/checks/control.py
    connector = catalog.find(target)
    if connector is None:
        close = catalog.nearest(target, catalog.target_names())
        _unknown(
            ctx,
            f"{where}.target",
            f"no built-in target {clip(target, 80)!r}"
            + (
                f" (did you mean {close!r}?)"
                if close
                else f" (built-in: {', '.join(catalog.target_names())})"
            )
            + "; a target registered with register_action() is fine",
        )
        return
    spec = connector.action(action)
    if spec is None:
        names = connector.action_names()
        close = catalog.nearest(action, names)
        _unknown(
            ctx,
            f"{where}.action",
            f"target {target!r} has no built-in action {clip(action, 80)!r}"
            + (f" (did you mean {close!r}?)" if close else f" (built-in: {', '.join(names)})")
            + "; an action registered with register_action() is fine",
        )
        return
    params = step.get("params", {})
    if isinstance(params, Mapping):
        for location, message in params_issues(spec.params, params):
            ctx.add(f"{where}.params{location}", message)


def _covered(params: Mapping[str, Any], loc: tuple[Any, ...], value: Any) -> bool:
    """Whether a reference stands where the error is (at it, or at a value that contains it)."""
    if isinstance(value, str) and is_reference(value):
        return True
    node: Any = params
    for part in loc:
        if isinstance(node, str):
            break
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if (isinstance(node, Mapping) and part in node) or in_list:
            node = node[part]
        else:
            continue  # a type tag of a union ("list[...]", "function-after[...]")
        if isinstance(node, str) and is_reference(node):
            return True
    return False


def _path(loc: tuple[Any, ...], params: Mapping[str, Any]) -> str:
    out, node = "", params
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            out += f".{part}"
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out += f"[{part}]"
            node = node[part]
        elif not out and isinstance(part, str):
            out += f".{part}"  # a missing key
    return out


def params_issues(model: type[Params], params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location under params, message) for each problem of ``params`` against ``model``."""
    names = model.accepted_names()
    found: list[tuple[str, str]] = []
    for name, info in model.model_fields.items():
        if not literal_only(info):
            continue
        for key in [k for k, main in names.items() if main == (info.alias or name)]:
            value = params.get(key)
            if isinstance(value, str) and is_reference(value):
                found.append(
                    (
                        f".{key}",
                        "must be written in the definition, not a reference: run conf must not set it",
                    )
                )
    try:
        model.model_validate(dict(params))
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error.get("loc", ()))
            kind = error.get("type", "")
            if kind == "extra_forbidden":
                key = str(loc[0]) if loc else "?"
                close = catalog.nearest(key, list(names))
                hint = (
                    f" (did you mean {close!r}?)"
                    if close
                    else f" (known: {', '.join(sorted(set(names.values())))})"
                )
                found.append(
                    (f".{clip(key, 80)}" if len(loc) == 1 else _path(loc, params), f"unknown param{hint}")
                )
            elif kind == "missing":
                found.append((_path(loc, params), "required param is missing"))
            elif not _covered(params, loc, error.get("input")):
                found.append((_path(loc, params), clip(str(error.get("msg", "invalid value")))))
    # One message per place: a union reports each branch that failed.
    return list(dict.fromkeys(found))


def params_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The definition schema with each built-in action's params (for ``definition/schema.py``)."""
    from airflow_provider_wfo.connectors.params_schema import apply_to_definition_schema

    return apply_to_definition_schema(schema)
