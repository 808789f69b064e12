"""Ids and names: the workflow's fields, step ids, param names, and each step's own fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.definition.checks.context import Context, as_str
from airflow_provider_wfo.definition.errors import json_path
from airflow_provider_wfo.definition.rules import (
    AIRFLOW_ID,
    BUILTIN_SCOPE_NAMES,
    MAX_ID_LENGTH,
    MAX_STEP_ID_LENGTH,
    MAX_TAG_LENGTH,
    REFERENCE_NAME,
    RESERVED_SCOPE_NAMES,
    RESERVED_STEP_IDS,
    WORKFLOW_ID_START,
)

__all__ = [
    "check_airflow_id",
    "check_params_names",
    "check_step_fields",
    "check_step_ids",
    "check_workflow",
]


def check_workflow(ctx: Context) -> None:
    data = ctx.data
    wid = as_str(data.get("id"))
    valid_id = wid is not None and check_airflow_id(ctx, "id", wid, "workflow id", "dag_id", MAX_ID_LENGTH)
    if valid_id and wid is not None and not WORKFLOW_ID_START.match(wid):
        # The id names the definition's file copy and its log files: '..', '.hidden' or '-'
        # would be a parent folder, a dotfile or an option.
        ctx.add("id", f"{wid[:60]!r}: a workflow id must start with a letter or a digit")
    name = as_str(data.get("name"))
    if name is not None and not name.strip():
        ctx.add("name", "the workflow name must not be empty")
    steps = data.get("steps")
    if isinstance(steps, list) and not steps:
        ctx.add("steps", "a workflow needs at least one step")
    owner = as_str(data.get("owner"))
    if owner is not None and not owner.strip():
        ctx.add("owner", "the owner must not be empty (leave the key out for the default)")
    tags = data.get("tags")
    if isinstance(tags, list):
        for k, tag in enumerate(tags):
            if isinstance(tag, str) and not (0 < len(tag) <= MAX_TAG_LENGTH):
                ctx.add(f"tags[{k}]", f"a tag has 1 to {MAX_TAG_LENGTH} characters")


def check_airflow_id(
    ctx: Context, location: str, value: str, what: str, airflow_name: str, limit: int
) -> bool:
    """Report ``value`` unless Airflow accepts it as an ``airflow_name``; True when it does."""
    if not value:
        ctx.add(location, f"the {what} must not be empty")
        return False
    if not AIRFLOW_ID.fullmatch(value):
        bad = sorted({c for c in value if not AIRFLOW_ID.fullmatch(c)})
        ctx.add(
            location,
            f"{value!r} cannot be an Airflow {airflow_name}: it contains {', '.join(map(repr, bad))}; "
            "use letters, digits, '_', '.' and '-'",
        )
        return False
    if len(value) > limit:
        ctx.add(
            location,
            f"the {what} has {len(value)} characters; at most {limit} fit an Airflow {airflow_name}",
        )
        return False
    return True


def check_step_ids(ctx: Context) -> None:
    """Unique, Airflow-valid and not reserved; fills ``ctx.index`` (first use of each id)."""
    for i, step in ctx.steps:
        sid = as_str(step.get("id"))
        if sid is None:
            continue
        where = f"steps[{i}].id"
        first = ctx.index.get(sid)
        if first is not None:
            ctx.add(
                where, f"duplicate step id {sid!r} (also used by steps[{first}]); step ids must be unique"
            )
            continue
        ctx.index[sid] = i
        if not check_airflow_id(ctx, where, sid, "step id", "task_id", MAX_STEP_ID_LENGTH):
            continue
        if "." in sid:
            ctx.add(
                where,
                f"step id {sid!r} contains '.': Airflow reserves dots for task groups, and "
                f"'${sid}' would read field {sid.split('.', 1)[1]!r} of step {sid.split('.', 1)[0]!r}; "
                "use '-' or '_'",
            )
        elif sid in RESERVED_STEP_IDS:
            ctx.add(where, f"step id {sid!r} is reserved ({RESERVED_STEP_IDS[sid]}); choose another id")
        elif sid in RESERVED_SCOPE_NAMES:
            ctx.add(
                where,
                f"step id {sid!r} is reserved: rollback params read ${sid} as "
                f"{RESERVED_SCOPE_NAMES[sid]}; choose another id",
            )
        elif sid in BUILTIN_SCOPE_NAMES:
            ctx.add(
                where,
                f"step id {sid!r} is reserved: params read ${sid} as {BUILTIN_SCOPE_NAMES[sid]}; "
                "choose another id",
            )


def check_params_names(ctx: Context) -> None:
    for key in ctx.declared:
        where = json_path(("params", key))
        if key in ctx.index:
            ctx.add(
                where,
                f"param {key!r} has the same name as step {key!r} (steps[{ctx.index[key]}]); "
                f"'${key}' would be ambiguous: rename one of them",
            )
        elif key in RESERVED_SCOPE_NAMES:
            ctx.add(
                where,
                f"param name {key!r} is reserved: rollback params read ${key} as {RESERVED_SCOPE_NAMES[key]}",
            )
        elif key in BUILTIN_SCOPE_NAMES:
            ctx.add(
                where, f"param name {key!r} is reserved: params read ${key} as {BUILTIN_SCOPE_NAMES[key]}"
            )
        elif not REFERENCE_NAME.fullmatch(key):
            ctx.add(
                where,
                f"param name {key!r} cannot be referenced as ${key}: start with a letter or '_' and use "
                "only letters, digits, '_' and '-'",
            )


def check_step_fields(ctx: Context) -> None:
    for i, step in ctx.steps:
        base = f"steps[{i}]"
        _check_nonempty(ctx, base, step, "step's")
        name = as_str(step.get("name"))
        if name is not None and not name.strip():
            ctx.add(f"{base}.name", "the step name must not be empty (leave it out to use the id)")
        _check_timeout_and_conn(ctx, base, step)
        rollback = step.get("rollback")
        if isinstance(rollback, Mapping):
            _check_nonempty(ctx, f"{base}.rollback", rollback, "rollback's")
            _check_timeout_and_conn(ctx, f"{base}.rollback", rollback)


def _check_nonempty(ctx: Context, base: str, action: Mapping[str, Any], whose: str) -> None:
    for key in ("action", "target"):
        value = as_str(action.get(key))
        if value is not None and not value.strip():
            ctx.add(f"{base}.{key}", f"the {whose} {key} must not be empty")


def _check_timeout_and_conn(ctx: Context, base: str, action: Mapping[str, Any]) -> None:
    conn = as_str(action.get("connId"))
    if conn is not None:
        check_airflow_id(ctx, f"{base}.connId", conn, "connection id", "conn_id", MAX_ID_LENGTH)
