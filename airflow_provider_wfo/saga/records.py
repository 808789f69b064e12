"""The ``wfo_outcome`` record: what every attempt of a step or compensation leaves behind.

Shape (XCom key ``wfo_outcome``, a JSON object)::

    {"status": "success" | "failed" | "skipped", "attempt": 1, "startTime": ISO, "endTime": ISO,
     "duration": ms, "error": str | None, "timedOut": bool, "willRetry": bool,
     "optional": bool, "params": {resolved params, secrets redacted},
     "result": {a control step's summary: a wait's moments, an approval's answer, a child run} | absent,
     "value": {the action's result, as in return_value} (success of a step or compensation only)}

A control step (wait, approval, workflow) also pushes ``wfo_waiting`` before it leaves the worker::

    {"kind": "delay" | "poll" | "approval" | "workflow", "since": ISO, "until": ISO | None,
     "detail": {what it waits for: a URL without its query, the approval's subject and assignees,
                the child's dag and run id}}
     "reason": str (skipped only: "condition false", "saga aborted: ..."),
     "condition": the ``when`` with its operands resolved (skipped by a condition only),
     "index": map index (one item of a forEach step only)}

The operators write it (``operators/outcome.py``, which applies Airflow's secrets masker); everything
else reads it through :func:`parse_outcome`. The events listener runs in the task's own process right
after the operator, so the record is also kept here (:func:`remember` / :func:`recorded`) to save it a
request to the API server per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The outcome each task process recorded last, by (dag_id, run_id, task_id, try_number).
_recorded: dict[tuple[str, str, str, int], dict[str, Any]] = {}


#: The error of a failed step whose task recorded none: Airflow stopped it (a timeout, a "killed
#: externally" state mismatch, a lost heartbeat) or its process died before it could say why.
UNRECORDED_ERROR = (
    "its task failed without recording why (stopped by Airflow, or its process died); see the task's log"
)


def error_text(exc: BaseException) -> str:
    """How an exception is told in outcomes, events and retry reasons: ``Type: message``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _key(ti: Any) -> tuple[str, str, str, int] | None:
    try:
        return (str(ti.dag_id), str(ti.run_id), str(ti.task_id), int(ti.try_number))
    except (AttributeError, TypeError, ValueError):
        return None


def remember(ti: Any, value: dict[str, Any]) -> None:
    """Keep ``value`` as the outcome of ``ti``'s attempt for this process's listener."""
    key = _key(ti)
    _recorded.clear()  # one task at a time per process: keep memory flat under dag.test
    if key is not None:
        _recorded[key] = value


def recorded(ti: Any) -> dict[str, Any] | None:
    """The outcome this process recorded for ``ti``'s attempt, if it was this process."""
    key = _key(ti)
    return _recorded.get(key) if key is not None else None


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Outcome:
    """One ``wfo_outcome`` record, typed. Unknown or malformed fields read as absent."""

    status: str | None = None
    attempt: int = 0
    start: datetime | None = None
    end: datetime | None = None
    duration: int | None = None
    error: str | None = None
    timed_out: bool = False
    will_retry: bool = False
    optional: bool | None = None
    params: Mapping[str, Any] | None = None
    #: A control step's summary (its answer, its moments), recorded on success and on failure: a
    #: rejection's "who and why" lives here, since a failed task has no result.
    result: Mapping[str, Any] | None = None
    #: Why a skipped step did not run ("condition false", "saga aborted: ...").
    reason: str | None = None
    #: The item's position, in the outcome of one item of a forEach step.
    index: int | None = None
    #: The action's result (the same JSON object as its ``return_value``), recorded on success so the
    #: result task needs one read per step. None when not recorded (a control step, an older record).
    value: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Waiting:
    """What a deferred or awaiting step waits for (the ``wfo_waiting`` record)."""

    kind: str
    since: datetime | None = None
    until: datetime | None = None
    detail: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "detail": dict(self.detail) if self.detail else {},
        }


def parse_waiting(raw: object) -> Waiting | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("kind"), str):
        return None
    detail = raw.get("detail")
    return Waiting(
        kind=str(raw["kind"]),
        since=parse_time(raw.get("since")),
        until=parse_time(raw.get("until")),
        detail=dict(detail) if isinstance(detail, Mapping) else None,
    )


def parse_outcome(raw: object) -> Outcome | None:
    if not isinstance(raw, Mapping):
        return None
    attempt = raw.get("attempt")
    duration = raw.get("duration")
    error = raw.get("error")
    optional = raw.get("optional")
    params = raw.get("params")
    result = raw.get("result")
    status = raw.get("status")
    reason = raw.get("reason")
    index = raw.get("index")
    value = raw.get("value")
    return Outcome(
        status=str(status) if status else None,
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
        start=parse_time(raw.get("startTime")),
        end=parse_time(raw.get("endTime")),
        duration=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
        error=str(error) if error else None,
        timed_out=raw.get("timedOut") is True,
        will_retry=raw.get("willRetry") is True,
        optional=optional if isinstance(optional, bool) else None,
        params=dict(params) if isinstance(params, Mapping) else None,
        result=dict(result) if isinstance(result, Mapping) else None,
        reason=str(reason) if reason else None,
        index=index if isinstance(index, int) and not isinstance(index, bool) and index >= 0 else None,
        value=dict(value) if isinstance(value, Mapping) else None,
    )
