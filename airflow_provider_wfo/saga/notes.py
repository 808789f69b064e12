"""THE one-line notes every display gives a step: why it was skipped, how far its items are, what it
waits for and until when, who answered an approval and when, how a sub-workflow ended.

``wfo run`` (live progress and the summary), ``wfo trace``, the workflow view and ``wfo graph`` (which
has no run: :func:`plan_note` says what a step *may* do) all read them here, so the wording is the
same everywhere. Pure: from :class:`~.status.StepState` (a run being read) or a
:class:`~airflow_provider_wfo.results.StepResult` (a finished run's result).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_provider_wfo.results import StepResult, StepStatus
from airflow_provider_wfo.saga.facts import StepState
from airflow_provider_wfo.saga.records import Waiting, parse_time

__all__ = ["answer_note", "items_note", "plan_note", "result_note", "state_note", "waiting_note"]

_UNFINISHED = (StepStatus.PENDING, StepStatus.RUNNING)


def _when(value: object) -> str:
    moment = value if isinstance(value, datetime) else parse_time(value)
    if moment is None:
        return str(value) if value else "?"
    return moment.isoformat(timespec="seconds")


def items_note(statuses: list[StepStatus]) -> str:
    """``2 of 3 items`` (finished of all), with the failed and skipped ones counted."""
    done = sum(1 for s in statuses if s not in _UNFINISHED)
    text = f"{done} of {len(statuses)} items"
    failed = sum(1 for s in statuses if s in (StepStatus.FAILED, StepStatus.FAILED_OPTIONAL))
    skipped = sum(1 for s in statuses if s == StepStatus.SKIPPED)
    extra = [f"{failed} failed" if failed else "", f"{skipped} skipped" if skipped else ""]
    extra = [e for e in extra if e]
    return text + (f" ({', '.join(extra)})" if extra else "")


def waiting_note(waiting: Waiting) -> str:
    """What a deferred or awaiting step waits for, and until when."""
    detail = waiting.detail or {}
    until = f" until {_when(waiting.until)}" if waiting.until else ""
    if waiting.kind == "approval":
        who = detail.get("assignees") or []
        by = f" from {', '.join(map(str, who))}" if who else ""
        then = f" (then {detail.get('onTimeout', 'reject')})" if waiting.until else " (no time limit)"
        return f"waiting for approval{by}{until}{then}"
    if waiting.kind == "poll":
        limit = f"at most{until}" if until else "no time limit"
        return f"polling {detail.get('request') or '?'} until the condition holds ({limit})"
    if waiting.kind == "workflow":
        return f"waiting for sub-workflow {detail.get('workflowId', '?')} (run {detail.get('runId', '?')})"
    return f"waiting{until}"


def answer_note(data: Mapping[str, Any]) -> str | None:
    """An approval's answer (``{approved, by, at, comment}``), or None for other data."""
    if "approved" not in data or "by" not in data:
        return None
    at = f" at {_when(data.get('at'))}" if data.get("at") else ""
    why = f": {data['comment']}" if data.get("comment") else ""
    if data.get("by") == "timeout":
        return f"{'approved' if data.get('approved') else 'rejected'} by the timeout{at}"
    return f"{'approved' if data.get('approved') else 'rejected'} by {data.get('by')}{at}{why}"


def _data_note(data: Mapping[str, Any]) -> str | None:
    """A control step's summary or result: an answer, a wait's end, a child run."""
    answer = answer_note(data)
    if answer is not None:
        return answer
    if "waitedUntil" in data:
        return f"waited until {_when(data.get('waitedUntil'))}"
    if "polls" in data and "resumedAt" in data:
        return f"{data.get('polls')} polls, resumed at {_when(data.get('resumedAt'))}"
    if "workflowId" in data and "status" in data:
        run = f" (run {data['runId']})" if data.get("runId") else ""
        return f"sub-workflow {data['workflowId']}{run} ended {data['status']}"
    return None


def state_note(step: StepState) -> str | None:
    """The note of a step of a run being read (progress, trace, workflow view)."""
    if step.waiting is not None:
        return waiting_note(step.waiting)
    if step.items is not None:
        return items_note([i.status for i in step.items])
    if step.status == StepStatus.SKIPPED and step.reason:
        return step.reason
    if step.summary:
        return _data_note(step.summary)
    return None


def result_note(step: StepResult) -> str | None:
    """The note of a step of a finished run's WorkflowResult (``wfo run``'s summary)."""
    if step.items is not None:
        return items_note([i.status for i in step.items])
    if step.status == StepStatus.SKIPPED and step.reason:
        return step.reason
    if step.result is not None and step.result.data:
        return _data_note(step.result.data)
    return None


def plan_note(
    *,
    target: str,
    action: str,
    when: Any = None,
    for_each: str | None = None,
    max_concurrency: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> str | None:
    """What a step may do, for a picture of the workflow without a run (``wfo graph``)."""
    import json

    params = params or {}
    notes: list[str] = []
    if when is not None:
        notes.append(f"when {json.dumps(when, separators=(',', ':'))} (else SKIPPED: condition false)")
    if for_each is not None:
        at_once = f", {max_concurrency} at a time" if max_concurrency else ""
        notes.append(f"once per item of {for_each}{at_once}")
    if target == "wait":
        budget = f" (at most {params.get('timeout')} ms)" if action == "poll" else ""
        notes.append(f"waits on the triggerer{budget}")
    elif target == "approval":
        who = params.get("assignees") or []
        notes.append("asks for approval" + (f" of {', '.join(map(str, who))}" if who else ""))
    elif target == "workflow":
        notes.append(f"runs sub-workflow {params.get('workflowId')}")
    return "; ".join(notes) or None
