"""The audit trail of a run, rebuilt from the metadata DB (shared by every machine of a deployment).

Nothing is written by us for it: Airflow already records every attempt of every task
(``task_instance`` + ``task_instance_history``: state, start, end, and -- through
:class:`~airflow_provider_wfo.events.retry.RecordErrorRetryPolicy` -- each retried attempt's error),
the run (``dag_run``) and our XComs (``wfo_outcome`` with the redacted resolved params of each step,
the gate's decision, the ``WorkflowResult``). :func:`build_trace` turns those into the ordered list of
the same :class:`WorkflowEvent` records the listener emits live, plus a per-step summary.

Read it with ``wfo trace DAG_ID RUN_ID`` or ``GET /wfo/api/dags/{dag_id}/runs/{run_id}/trace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from airflow_provider_wfo.events.listener import (
    COMPENSATE_PREFIX,
    GATE_TASK_ID,
    OUTCOME_KEY,
    RESULT_TASK_ID,
    is_forward_task_id,
    progress_from_states,
)
from airflow_provider_wfo.events.model import StepPhase, WorkflowEvent, WorkflowEventType
from airflow_provider_wfo.events.redaction import redact, redact_text
from airflow_provider_wfo.results import Progress


class TraceNotFound(LookupError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Attempt(_Model):
    attempt: int
    state: str | None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    error: str | None = None
    hostname: str | None = None


class TraceTask(_Model):
    """One forward step or one compensation, with every attempt."""

    step_id: str
    step_name: str
    task_id: str
    phase: StepPhase
    state: str | None
    attempts: list[Attempt] = Field(default_factory=list)
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    error: str | None = None
    params: dict[str, Any] | None = None
    upstream: list[str] = Field(default_factory=list)


class RunTrace(_Model):
    dag_id: str
    run_id: str
    workflow_id: str
    workflow_name: str
    state: str | None
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    error: str | None = None
    failed_step: str | None = None
    rollback_performed: bool = False
    conf: dict[str, Any] = Field(default_factory=dict)
    progress: Progress | None = None
    steps: list[TraceTask] = Field(default_factory=list)
    compensations: dict[str, TraceTask] = Field(default_factory=dict)
    decision: dict[str, Any] | None = None
    events: list[WorkflowEvent] = Field(default_factory=list)


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def _state(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def build_trace(dag_id: str, run_id: str, session: Any = None) -> RunTrace:
    """The trace of one run. Raises :class:`TraceNotFound` when the run does not exist."""
    if session is None:
        from airflow.utils.session import create_session

        with create_session() as new_session:
            return _build(dag_id, run_id, new_session)
    return _build(dag_id, run_id, session)


def _build(dag_id: str, run_id: str, session: Any) -> RunTrace:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if dag_run is None:
        raise TraceNotFound(f"no run {run_id!r} of DAG {dag_id!r}")
    tis = list(session.scalars(
        select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    ))
    history = list(session.scalars(
        select(TaskInstanceHistory).where(
            TaskInstanceHistory.dag_id == dag_id, TaskInstanceHistory.run_id == run_id
        )
    ))
    xcoms: dict[tuple[str, str], Any] = {}
    rows = session.execute(
        select(XComModel.task_id, XComModel.key, XComModel.value).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id,
            XComModel.key.in_([OUTCOME_KEY, "return_value"]),
            XComModel.task_id.in_([ti.task_id for ti in tis] or [""]),
        )
    ).all()
    for task_id, key, value in rows:
        if key == "return_value" and task_id not in (GATE_TASK_ID, RESULT_TASK_ID):
            continue  # action results are not part of the trace (only what the steps were asked)
        xcoms[(task_id, key)] = XComModel.deserialize_value(_Row(value))

    dag = None
    try:
        from airflow.models.dagbag import DBDagBag

        dag = DBDagBag().get_dag_for_run(dag_run, session=session)
    except Exception:
        dag = None

    return assemble(
        dag_id=dag_id,
        run_id=run_id,
        run_state=_state(dag_run.state),
        run_start=dag_run.start_date,
        run_end=dag_run.end_date,
        conf=dict(dag_run.conf or {}),
        task_rows=[_ti_row(ti) for ti in tis],
        history_rows=[_ti_row(h) for h in history],
        xcoms=xcoms,
        upstream={t.task_id: sorted(t.upstream_task_ids) for t in getattr(dag, "tasks", [])} if dag else {},
        dag_display_name=getattr(dag, "dag_display_name", None) if dag else None,
    )


class _Row:
    """``XComModel.deserialize_value`` reads ``.value``."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _ti_row(ti: Any) -> dict[str, Any]:
    return {
        "task_id": ti.task_id,
        "try_number": ti.try_number,
        "state": _state(ti.state),
        "start_date": ti.start_date,
        "end_date": ti.end_date,
        "hostname": getattr(ti, "hostname", None) or None,
        "task_display_name": getattr(ti, "task_display_name", None),
        "retry_reason": getattr(ti, "retry_reason", None),
    }


def assemble(
    *,
    dag_id: str,
    run_id: str,
    run_state: str | None,
    run_start: datetime | None,
    run_end: datetime | None,
    conf: Mapping[str, Any],
    task_rows: Iterable[Mapping[str, Any]],
    history_rows: Iterable[Mapping[str, Any]],
    xcoms: Mapping[tuple[str, str], Any],
    upstream: Mapping[str, list[str]],
    dag_display_name: str | None = None,
) -> RunTrace:
    """Pure: the trace from DB rows (kept apart from the queries so it can be tested on its own)."""
    current = {str(r["task_id"]): r for r in task_rows}
    attempts_by_task: dict[str, list[Mapping[str, Any]]] = {}
    for row in history_rows:
        attempts_by_task.setdefault(str(row["task_id"]), []).append(row)
    result = xcoms.get((RESULT_TASK_ID, "return_value"))
    result = result if isinstance(result, Mapping) else {}
    decision = xcoms.get((GATE_TASK_ID, "return_value"))
    decision = dict(decision) if isinstance(decision, Mapping) else None

    names: dict[str, str] = {}
    for step in result.get("steps") or []:
        if isinstance(step, Mapping) and step.get("stepId"):
            names[str(step["stepId"])] = str(step.get("stepName") or step["stepId"])
    for task_id, row in current.items():
        if is_forward_task_id(task_id) and task_id not in names:
            names[task_id] = str(row.get("task_display_name") or task_id)
    workflow_name = str(result.get("workflowName") or dag_display_name or dag_id)

    def task_trace(task_id: str) -> TraceTask:
        row = current[task_id]
        phase = StepPhase.ROLLBACK if task_id.startswith(COMPENSATE_PREFIX) else StepPhase.FORWARD
        step_id = task_id[len(COMPENSATE_PREFIX):] if phase is StepPhase.ROLLBACK else task_id
        outcome = xcoms.get((task_id, OUTCOME_KEY))
        outcome = outcome if isinstance(outcome, Mapping) else {}
        rows = sorted(attempts_by_task.get(task_id, []), key=lambda r: int(r["try_number"] or 0))
        # A task the scheduler decided about without running it (upstream_failed, branch-skipped) has
        # try_number 0, though the scheduler may have stamped start/end dates on it.
        ran = int(row.get("try_number") or 0) >= 1 and row.get("state") not in ("upstream_failed", "removed")
        if ran and row.get("start_date") is not None and all(
            r["try_number"] != row["try_number"] for r in rows
        ):
            rows.append(row)
        attempts: list[Attempt] = []
        for r in rows:
            number = int(r["try_number"] or 0)
            is_last = r is rows[-1]
            error = None
            if is_last and outcome and int(outcome.get("attempt") or number) == number:
                error = outcome.get("error")
            elif r.get("state") in ("up_for_retry", "failed"):
                error = r.get("retry_reason")
            attempts.append(Attempt(
                attempt=number,
                state="failed" if r.get("state") == "up_for_retry" else r.get("state"),
                start_time=r.get("start_date"), end_time=r.get("end_date"),
                duration=_ms(r.get("start_date"), r.get("end_date")),
                error=redact_text(str(error)) if error else None, hostname=r.get("hostname"),
            ))
        params = outcome.get("params")
        return TraceTask(
            step_id=step_id, step_name=names.get(step_id, step_id), task_id=task_id, phase=phase,
            state=row.get("state"), attempts=attempts,
            start_time=attempts[0].start_time if attempts else None,
            end_time=attempts[-1].end_time if attempts else None,
            duration=outcome.get("duration") if isinstance(outcome.get("duration"), int)
            else (attempts[-1].duration if attempts else None),
            error=attempts[-1].error if attempts and row.get("state") == "failed" else None,
            params=redact(dict(params)) if isinstance(params, Mapping) else None,
            upstream=[u for u in upstream.get(task_id, []) if is_forward_task_id(u)],
        )

    forward_ids = [t for t in _ordered(current, upstream) if is_forward_task_id(t)]
    steps = [task_trace(t) for t in forward_ids]
    compensations = {
        t[len(COMPENSATE_PREFIX):]: task_trace(t) for t in current if t.startswith(COMPENSATE_PREFIX)
    }
    progress = None
    if isinstance(result.get("progress"), Mapping):
        progress = Progress.model_validate(result["progress"])

    trace = RunTrace(
        dag_id=dag_id, run_id=run_id, workflow_id=dag_id, workflow_name=workflow_name,
        state=run_state, status=result.get("status"), start_time=run_start, end_time=run_end,
        duration=result["duration"] if isinstance(result.get("duration"), int) else _ms(run_start, run_end),
        error=redact_text(str(result["error"])) if result.get("error") else None,
        failed_step=result.get("failedStep"), rollback_performed=bool(result.get("rollbackPerformed")),
        conf=redact(dict(conf)), progress=progress, steps=steps, compensations=compensations,
        decision=redact(decision) if decision else None,
    )
    trace.events = _events(trace, current, forward_ids)
    return trace


def _ordered(current: Mapping[str, Any], upstream: Mapping[str, list[str]]) -> list[str]:
    """Task ids in a topological order (ties by start time), so the step list reads top-down."""
    remaining = dict.fromkeys(current)
    order: list[str] = []
    while remaining:
        ready = [t for t in remaining if not any(u in remaining for u in upstream.get(t, []))]
        if not ready:
            ready = list(remaining)
        ready.sort(key=lambda t: (current[t].get("start_date") is None, str(current[t].get("start_date")), t))
        for t in ready:
            order.append(t)
            del remaining[t]
    return order


def _events(
    trace: RunTrace, current: Mapping[str, Mapping[str, Any]], forward: list[str]
) -> list[WorkflowEvent]:
    base: dict[str, Any] = {
        "workflow_id": trace.workflow_id, "workflow_name": trace.workflow_name,
        "dag_id": trace.dag_id, "run_id": trace.run_id,
    }
    timeline: list[tuple[datetime, int, WorkflowEvent]] = []
    seq = 0

    def add(at: datetime | None, type_: WorkflowEventType, **fields: Any) -> None:
        nonlocal seq
        if at is None:
            return
        seq += 1
        timeline.append((at, seq, WorkflowEvent(type=type_, timestamp=at, **base, **fields)))

    total = len(forward)
    add(trace.start_time, WorkflowEventType.WORKFLOW_STARTED, progress=Progress(
        current_step=0, total_steps=total, completed_steps=0, failed_steps=0,
        status="RUNNING", percent_complete=0))

    terminal: list[tuple[datetime, str, str]] = []
    for task in [*trace.steps, *trace.compensations.values()]:
        who = {"step_id": task.step_id, "step_name": task.step_name, "task_id": task.task_id,
               "phase": task.phase}
        for i, attempt in enumerate(task.attempts):
            last = i == len(task.attempts) - 1
            fields = {**who, "attempt": attempt.attempt}
            if task.phase is StepPhase.FORWARD:
                add(attempt.start_time, WorkflowEventType.STEP_STARTED, **fields)
            done = {**fields, "duration": task.duration if last else attempt.duration}
            if attempt.error:
                done["error"] = attempt.error
            if last and task.params is not None:
                done["params"] = task.params
            if not last:
                add(attempt.end_time, WorkflowEventType.STEP_RETRYING, **done)
            elif task.state == "success":
                add(attempt.end_time, WorkflowEventType.STEP_COMPLETED if task.phase is StepPhase.FORWARD
                    else WorkflowEventType.STEP_ROLLED_BACK, **done)
            elif task.state == "failed":
                add(attempt.end_time, WorkflowEventType.STEP_FAILED, **done)
            elif task.state == "skipped" and task.phase is StepPhase.FORWARD:
                add(attempt.end_time, WorkflowEventType.STEP_SKIPPED, **fields)
            if last and task.phase is StepPhase.FORWARD and attempt.end_time is not None and task.state in (
                "success", "failed", "skipped"
            ):
                terminal.append((attempt.end_time, task.task_id, str(task.state)))

    # Progress after each forward step that finished, replayed in the order they finished.
    states: dict[str, str] = {}
    names = {s.task_id: s.step_name for s in trace.steps}
    for at, task_id, state in sorted(terminal):
        states[task_id] = state
        add(at, WorkflowEventType.WORKFLOW_PROGRESS, step_id=task_id, step_name=names[task_id],
            task_id=task_id, phase=StepPhase.FORWARD,
            progress=progress_from_states(forward, states, names[task_id]))

    gate = current.get(GATE_TASK_ID)
    if gate and trace.decision and trace.decision.get("failing") and trace.decision.get("compensate"):
        failed = trace.decision.get("failedStep")
        add(gate.get("end_date"), WorkflowEventType.ROLLBACK_STARTED,
            step_id=str(failed) if failed else None, step_name=names.get(str(failed)) if failed else None,
            error=redact_text(str(trace.decision.get("error"))) if trace.decision.get("error") else None)

    end = trace.end_time
    if end is not None and trace.state in ("success", "failed"):
        common = {"duration": trace.duration, "error": trace.error, "status": trace.status}
        if trace.rollback_performed:
            add(end, WorkflowEventType.ROLLBACK_FAILED if trace.status == "ROLLBACK_FAILED"
                else WorkflowEventType.ROLLBACK_COMPLETED, step_id=trace.failed_step, **common)
        completed = trace.state == "success" and trace.status in ("COMPLETED", None)
        add(end, WorkflowEventType.WORKFLOW_COMPLETED if completed else WorkflowEventType.WORKFLOW_FAILED,
            progress=trace.progress, **common)
    # Events of one instant keep the order they were added in (started before progress, etc.).
    timeline.sort(key=lambda item: (item[0], _rank(item[2].type), item[1]))
    return [event for _, _, event in timeline]


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
