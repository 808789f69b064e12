"""What the status rules (``saga/status.py``) read and produce: the facts a reader knows about each
task instance (:class:`TaskFacts`), and the derived run (:class:`RunState` of :class:`StepState`,
:class:`ItemState`, :class:`CompensationState`). Plain frozen dataclasses, no rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_wfo.results import Progress, StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.plan import GateDecision
from airflow_provider_wfo.saga.records import Outcome, Waiting

#: Step statuses that count as "completed" / "failed" in progress.
RAN = frozenset({StepStatus.COMPLETED, StepStatus.ROLLED_BACK, StepStatus.ROLLBACK_FAILED})
FAILED_STATUSES = frozenset({StepStatus.FAILED, StepStatus.FAILED_OPTIONAL})
FINAL_STATUSES = frozenset(
    {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.FAILED,
        WorkflowStatus.ROLLED_BACK,
        WorkflowStatus.ROLLBACK_FAILED,
    }
)


def ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


@dataclass(frozen=True)
class TaskFacts:
    """What a reader knows about one task instance of the run."""

    state: str | None = None
    #: The ``wfo_outcome`` of its last attempt (absent for the gate and the result task).
    outcome: Outcome | None = None
    #: Attempts that ran (the TI's try number once it started), when known.
    tries: int = 0
    #: First attempt's start and last attempt's start/end, from the TI and its history, when known.
    first_start: datetime | None = None
    last_start: datetime | None = None
    last_end: datetime | None = None
    #: The ``wfo_waiting`` record of a control step, when the reader has it.
    waiting: Waiting | None = None


@dataclass(frozen=True)
class CompensationState:
    status: StepStatus
    state: str | None
    attempts: int
    duration: int | None
    error: str | None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ItemState:
    """One item of a forEach step."""

    index: int
    status: StepStatus
    state: str | None
    attempts: int
    start: datetime | None
    end: datetime | None
    duration: int | None
    error: str | None
    rollback: CompensationState | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StepState:
    step_id: str
    status: StepStatus
    state: str | None
    optional: bool
    attempts: int
    start: datetime | None
    end: datetime | None
    #: Milliseconds of the last attempt.
    duration: int | None
    #: First attempt's start to the last attempt's end (retries included), when the history is known.
    span: int | None
    error: str | None
    rollback: CompensationState | None = None
    #: What the step waits for while Airflow has it ``deferred`` or ``awaiting_input``.
    waiting: Waiting | None = None
    #: A control step's recorded summary (an approval's answer: who, when, why).
    summary: Mapping[str, Any] | None = None
    #: Why it was skipped, when its outcome says ("condition false", "saga aborted: ...").
    reason: str | None = None
    #: A forEach step's items (None for any other step; empty for an empty list).
    items: tuple[ItemState, ...] | None = None

    @property
    def items_done(self) -> tuple[int, int] | None:
        """(finished items, items) of a forEach step: the "n of m" of progress displays."""
        if self.items is None:
            return None
        done = sum(1 for i in self.items if i.status not in (StepStatus.PENDING, StepStatus.RUNNING))
        return done, len(self.items)


@dataclass(frozen=True)
class RunState:
    status: WorkflowStatus
    steps: tuple[StepState, ...]
    progress: Progress
    decision: GateDecision | None
    error: str | None
    failed_step: str | None
    rollback_performed: bool
    start: datetime | None = None
    end: datetime | None = None
    duration: int | None = None
    by_id: Mapping[str, StepState] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES
