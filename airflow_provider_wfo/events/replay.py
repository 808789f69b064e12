"""The events of a run replayed from its trace: the same :class:`WorkflowEvent` records, in the same
order, that the listener emitted live (``events/listener.py``), including each step's progress as that
step reported it (``saga.status.step_progress``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_wfo.events.model import StepPhase, WorkflowEvent, WorkflowEventType
from airflow_provider_wfo.redaction import redact_text
from airflow_provider_wfo.results import WorkflowStatus
from airflow_provider_wfo.saga.facts import RunState
from airflow_provider_wfo.saga.names import FAILED, GATE_TASK_ID, SKIPPED, SUCCESS
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.status import started_progress, step_progress

if TYPE_CHECKING:
    from airflow_provider_wfo.events.trace import RunTrace, TraceTask


class _Timeline:
    """Events with their moment and the order they were added in (the tie-break of one instant)."""

    def __init__(self, trace: RunTrace) -> None:
        self.base: dict[str, Any] = {
            "workflow_id": trace.workflow_id,
            "workflow_name": trace.workflow_name,
            "dag_id": trace.dag_id,
            "run_id": trace.run_id,
        }
        self.entries: list[tuple[datetime, int, WorkflowEvent]] = []

    def add(self, at: datetime | None, type_: WorkflowEventType, **fields: Any) -> None:
        if at is None:
            return
        event = WorkflowEvent(type=type_, timestamp=at, **self.base, **fields)
        self.entries.append((at, len(self.entries) + 1, event))

    def events(self) -> list[WorkflowEvent]:
        # Events of one instant keep the order they were added in (started before progress, etc.).
        ordered = sorted(self.entries, key=lambda item: (item[0], _rank(item[2].type), item[1]))
        return [event for _, _, event in ordered]


def replay(
    trace: RunTrace, plan: SagaPlan, current: Mapping[str, Mapping[str, Any]], run: RunState
) -> list[WorkflowEvent]:
    """The events of ``trace`` in the order the listener emitted them."""
    timeline = _Timeline(trace)
    timeline.add(
        trace.start_time, WorkflowEventType.WORKFLOW_STARTED, progress=started_progress(len(plan.order))
    )
    terminal: list[tuple[datetime, str, str]] = []
    for task in [*trace.steps, *trace.compensations.values()]:
        _task_events(timeline, task, terminal)
    names = {s.task_id: s.step_name for s in trace.steps}
    _progress_events(timeline, plan, terminal, names)
    _rollback_started(timeline, trace, current, names)
    _run_end(timeline, trace)
    return timeline.events()


def _task_events(timeline: _Timeline, task: TraceTask, terminal: list[tuple[datetime, str, str]]) -> None:
    """Every attempt's events of one step or compensation; a forward step's end goes to ``terminal``."""
    who = {"step_id": task.step_id, "step_name": task.step_name, "task_id": task.task_id, "phase": task.phase}
    forward = task.phase is StepPhase.FORWARD
    for i, attempt in enumerate(task.attempts):
        last = i == len(task.attempts) - 1
        fields = {**who, "attempt": attempt.attempt}
        if forward:
            timeline.add(attempt.start_time, WorkflowEventType.STEP_STARTED, **fields)
        done = {**fields, "duration": task.duration if last else attempt.duration}
        if attempt.error:
            done["error"] = attempt.error
        if last and task.params is not None:
            done["params"] = task.params
        if not last:
            timeline.add(attempt.end_time, WorkflowEventType.STEP_RETRYING, **done)
        elif task.state == SUCCESS:
            kind = WorkflowEventType.STEP_COMPLETED if forward else WorkflowEventType.STEP_ROLLED_BACK
            timeline.add(attempt.end_time, kind, **done)
        elif task.state == FAILED:
            timeline.add(attempt.end_time, WorkflowEventType.STEP_FAILED, **done)
        elif task.state == SKIPPED and forward:
            timeline.add(attempt.end_time, WorkflowEventType.STEP_SKIPPED, **fields)
        if last and forward and attempt.end_time is not None and task.state in (SUCCESS, FAILED, SKIPPED):
            terminal.append((attempt.end_time, task.task_id, str(task.state)))


def _progress_events(
    timeline: _Timeline, plan: SagaPlan, terminal: list[tuple[datetime, str, str]], names: Mapping[str, str]
) -> None:
    """Progress after each forward step that finished, as that step's own event reported it."""
    for at, task_id, state in sorted(terminal):
        timeline.add(
            at,
            WorkflowEventType.WORKFLOW_PROGRESS,
            step_id=task_id,
            step_name=names[task_id],
            task_id=task_id,
            phase=StepPhase.FORWARD,
            progress=step_progress(plan, task_id, state, names[task_id]),
        )


def _rollback_started(
    timeline: _Timeline, trace: RunTrace, current: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> None:
    gate = current.get(GATE_TASK_ID)
    decision = trace.decision
    if not (gate and decision and decision.get("failing") and decision.get("compensate")):
        return
    failed = decision.get("failedStep")
    timeline.add(
        gate.get("end_date"),
        WorkflowEventType.ROLLBACK_STARTED,
        step_id=str(failed) if failed else None,
        step_name=names.get(str(failed)) if failed else None,
        error=redact_text(str(decision.get("error"))) if decision.get("error") else None,
    )


def _run_end(timeline: _Timeline, trace: RunTrace) -> None:
    end = trace.end_time
    if end is None or trace.state not in ("success", "failed"):
        return
    common = {"duration": trace.duration, "error": trace.error, "status": trace.status}
    if trace.rollback_performed:
        timeline.add(
            end,
            WorkflowEventType.ROLLBACK_FAILED
            if trace.status == "ROLLBACK_FAILED"
            else WorkflowEventType.ROLLBACK_COMPLETED,
            step_id=trace.failed_step,
            **common,
        )
    completed = trace.state == SUCCESS and trace.status == WorkflowStatus.COMPLETED.value
    timeline.add(
        end,
        WorkflowEventType.WORKFLOW_COMPLETED if completed else WorkflowEventType.WORKFLOW_FAILED,
        progress=trace.progress,
        **common,
    )


_RANKS = {
    WorkflowEventType.WORKFLOW_STARTED: 0,
    WorkflowEventType.STEP_STARTED: 1,
    WorkflowEventType.STEP_RETRYING: 2,
    WorkflowEventType.STEP_COMPLETED: 2,
    WorkflowEventType.STEP_FAILED: 2,
    WorkflowEventType.STEP_SKIPPED: 2,
    WorkflowEventType.STEP_ROLLED_BACK: 2,
    WorkflowEventType.WORKFLOW_PROGRESS: 3,
    WorkflowEventType.ROLLBACK_STARTED: 4,
    WorkflowEventType.ROLLBACK_COMPLETED: 5,
    WorkflowEventType.ROLLBACK_FAILED: 5,
    WorkflowEventType.WORKFLOW_COMPLETED: 6,
    WorkflowEventType.WORKFLOW_FAILED: 6,
}


def _rank(type_: WorkflowEventType) -> int:
    return _RANKS.get(type_, 9)
