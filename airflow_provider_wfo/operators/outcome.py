"""Helpers shared by the wfo operators: run scope, referenced results, writing the ``wfo_outcome``
record (its shape and readers: ``saga/records.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wfo.definition.references import ReferenceError, find_references
from airflow_provider_wfo.redaction import redact, redact_text
from airflow_provider_wfo.saga.names import OUTCOME_KEY
from airflow_provider_wfo.saga.records import remember


def push_outcome(ti: Any, value: dict[str, Any]) -> None:
    """Push ``wfo_outcome`` as XCom and keep it for this process's listener."""
    ti.xcom_push(key=OUTCOME_KEY, value=value)
    remember(ti, value)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def run_scope(context: Mapping[str, Any]) -> dict[str, Any]:
    """The initial context: DAG params with run conf on top (``{**params, **dag_run.conf}``)."""
    scope: dict[str, Any] = {}
    params = context.get("params") or {}
    for key in list(params):
        scope[str(key)] = params[key]
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    scope.update(conf)
    return scope


def run_builtin(context: Mapping[str, Any]) -> dict[str, Any]:
    """``$run``: {dagId, runId, date (YYYY-MM-DD, UTC, of the logical date or run start), startTime,
    logicalDate}."""
    ti = context.get("ti")
    dag_run = context.get("dag_run")
    logical = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    started = getattr(dag_run, "start_date", None) or getattr(dag_run, "run_after", None)
    anchor = logical or started or utcnow()
    if isinstance(anchor, datetime) and anchor.tzinfo is not None:
        anchor = anchor.astimezone(timezone.utc)
    return {
        "dagId": getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
        "runId": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "date": anchor.date().isoformat() if isinstance(anchor, datetime) else str(anchor)[:10],
        "startTime": iso(started) if isinstance(started, datetime) else None,
        "logicalDate": iso(logical) if isinstance(logical, datetime) else None,
    }


def referenced_step_ids(value: Any, step_ids: Iterable[str], extra_names: Iterable[str] = ()) -> list[str]:
    """The step ids that ``value`` references (so only those results are pulled from XCom)."""
    steps = set(step_ids)
    known = steps | set(extra_names)
    found: dict[str, None] = {}
    try:
        for _, ref in find_references(value, known):
            if ref.name in steps:
                found[ref.name] = None
    except ReferenceError:
        # resolve() reports the malformed reference with its location; nothing to pull for it.
        pass
    return list(found)


def outcome(
    *,
    status: str,
    attempt: int,
    start: datetime,
    end: datetime,
    error: str | None = None,
    params: Any = None,
    timed_out: bool = False,
    will_retry: bool = False,
    optional: bool = False,
    index: int | None = None,
    value: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "status": status,
        "attempt": attempt,
        "startTime": iso(start),
        "endTime": iso(end),
        "duration": int((end - start).total_seconds() * 1000),
        "error": redact_text(error) if error else None,
        "timedOut": timed_out,
        "willRetry": will_retry,
        "optional": optional,
        "params": redact(params) if params is not None else None,
    }
    if index is not None:  # one item of a forEach step: readers pair outcomes read in bulk by it
        record["index"] = index
    if value is not None:
        # The action's result again (as in return_value, unredacted: later steps reference it), so the
        # result task reads one XCom per step, not two (saga/records.py).
        record["value"] = value
    return record


def skipped_outcome(
    reason: str, *, condition: Any = None, index: int | None = None, optional: bool = False
) -> dict[str, Any]:
    """The record of a step that decided not to run (``when`` false, saga aborted)."""
    now = utcnow()
    record: dict[str, Any] = {
        "status": "skipped",
        "attempt": 1,
        "startTime": iso(now),
        "endTime": iso(now),
        "duration": 0,
        "error": None,
        "optional": optional,
        "reason": redact_text(reason),
    }
    if condition is not None:
        record["condition"] = redact(condition)
    if index is not None:
        record["index"] = index
    return record


def as_json_dict(value: Any, what: str) -> dict[str, Any]:
    """An action's return value as the JSON object stored in XCom."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} returned {type(value).__name__}; an action returns a JSON object (dict)")
    data: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return data
