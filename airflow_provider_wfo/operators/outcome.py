"""Helpers shared by the wfo operators: run scope, referenced results, the ``wfo_outcome`` record.

``wfo_outcome`` (XCom key) is what every step and compensation records about its attempt:

    {"status": "success" | "failed", "attempt": 1, "startTime": ISO, "endTime": ISO,
     "duration": ms, "error": str | None, "timedOut": bool, "willRetry": bool,
     "params": {resolved params, secrets redacted}}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wfo.definition.references import ReferenceError, find_references

OUTCOME_KEY = "wfo_outcome"
GATE_TASK_ID = "saga_decision"
RESULT_TASK_ID = "workflow_result"
COMPENSATE_GROUP = "compensate"
#: Scope names only compensations see.
ERROR_NAME = "error"
FAILED_STEP_NAME = "failedStep"
#: Built-in name in every step and compensation scope; wins over a run-conf key of the same name.
RUN_NAME = "run"


#: The outcome each task process recorded last, by (dag_id, run_id, task_id, try_number). The events
#: listener runs in the same process right after the operator; taking the record from here saves it
#: a request to the API server per step (bench/steps.py measured that request).
_recorded: dict[tuple[str, str, str, int], dict[str, Any]] = {}


def push_outcome(ti: Any, value: dict[str, Any]) -> None:
    """Push ``wfo_outcome`` as XCom and keep it for this process's listener."""
    ti.xcom_push(key=OUTCOME_KEY, value=value)
    _recorded.clear()  # one task at a time per process: keep memory flat under dag.test
    _recorded[(str(ti.dag_id), str(ti.run_id), str(ti.task_id), int(ti.try_number))] = value


def recorded_outcome(ti: Any) -> dict[str, Any] | None:
    """The outcome this process pushed for ``ti``'s attempt, if it was this process."""
    try:
        key = (str(ti.dag_id), str(ti.run_id), str(ti.task_id), int(ti.try_number))
    except (AttributeError, TypeError, ValueError):
        return None
    return _recorded.get(key)


def compensation_task_id(step_id: str) -> str:
    return f"{COMPENSATE_GROUP}.{step_id}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def redact(value: Any) -> Any:
    """Airflow's secrets masker (sensitive key names and registered secrets), JSON-safe afterwards."""
    try:
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact
    except ImportError:  # pragma: no cover - older layouts
        from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
            redact as airflow_redact,
        )
    return json.loads(json.dumps(airflow_redact(value), default=str))


def redact_text(text: str) -> str:
    redacted = redact(text)
    return redacted if isinstance(redacted, str) else str(redacted)


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
) -> dict[str, Any]:
    return {
        "status": status,
        "attempt": attempt,
        "startTime": iso(start),
        "endTime": iso(end),
        "duration": int((end - start).total_seconds() * 1000),
        "error": redact_text(error) if error else None,
        "timedOut": timed_out,
        "willRetry": will_retry,
        "params": redact(params) if params is not None else None,
    }


def error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def as_json_dict(value: Any, what: str) -> dict[str, Any]:
    """An action's return value as the JSON object stored in XCom."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} returned {type(value).__name__}; an action returns a JSON object (dict)")
    data: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return data
