"""The audit trail of a run, rebuilt from the metadata DB (shared by every machine of a deployment).

Nothing is written by us for it: Airflow already records every attempt of every task
(``task_instance`` + ``task_instance_history``: state, start, end, and -- through
:class:`~airflow_provider_wfo.events.retry.RecordErrorRetryPolicy` -- each retried attempt's error),
the run (``dag_run``) and our XComs (``wfo_outcome`` with the redacted resolved params of each step,
the gate's decision, the ``WorkflowResult``). :func:`build_trace` turns those into a per-step summary
whose statuses, progress and durations come from ``saga.status.derive`` (the rules the result task
applies), plus the ordered list of the same :class:`WorkflowEvent` records the listener emits live
(``events/replay.py``).

Read it with ``wfo trace DAG_ID RUN_ID`` or ``GET /wfo/api/dags/{dag_id}/runs/{run_id}/trace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from airflow_provider_wfo.events.model import StepPhase, WorkflowEvent
from airflow_provider_wfo.redaction import redact, redact_text
from airflow_provider_wfo.results import Progress
from airflow_provider_wfo.saga.facts import RunState, TaskFacts, ms
from airflow_provider_wfo.saga.names import (
    GATE_TASK_ID,
    OUTCOME_KEY,
    RESULT_TASK_ID,
    RETURN_KEY,
    UP_FOR_RETRY,
    WAITING_KEY,
    is_compensation_task_id,
    is_forward_task_id,
    item_key,
    phase_of,
    step_id_of,
)
from airflow_provider_wfo.saga.notes import state_note
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan
from airflow_provider_wfo.saga.records import Outcome, Waiting, parse_outcome, parse_waiting
from airflow_provider_wfo.saga.status import derive

#: Airflow run states after which nothing of the run runs again.
FINISHED_RUN_STATES = ("success", "failed")


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
    #: Airflow's task-instance state.
    state: str | None
    #: The saga's status (a ``StepStatus`` value; for a compensation ROLLED_BACK / ROLLBACK_FAILED /
    #: RUNNING / PENDING, or None when the gate did not choose it).
    status: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    start_time: datetime | None = None
    end_time: datetime | None = None
    #: Milliseconds of the last attempt (the WorkflowResult's ``duration``).
    duration: int | None = None
    #: Milliseconds from the first attempt's start to the last one's end (retries and delays included).
    span: int | None = None
    error: str | None = None
    params: dict[str, Any] | None = None
    upstream: list[str] = Field(default_factory=list)
    #: A forward step's note (``saga/notes.py``): why it was skipped, what it waits for and until
    #: when, who answered an approval and when, how a sub-workflow ended.
    note: str | None = None


class RunTrace(_Model):
    dag_id: str
    run_id: str
    workflow_id: str
    workflow_name: str
    #: Airflow's dag-run state.
    state: str | None
    #: The saga's status (a ``WorkflowStatus`` value), the same the result task reports.
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    #: Airflow's run duration (start to end), once the run ended.
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
    from sqlalchemy import select

    dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if dag_run is None:
        raise TraceNotFound(f"no run {run_id!r} of DAG {dag_id!r}")
    tis = list(
        session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        )
    )
    history = list(
        session.scalars(
            select(TaskInstanceHistory).where(
                TaskInstanceHistory.dag_id == dag_id, TaskInstanceHistory.run_id == run_id
            )
        )
    )
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
        xcoms=run_xcoms(session, [(dag_id, run_id)]).get((dag_id, run_id), {}),
        upstream={t.task_id: sorted(t.upstream_task_ids) for t in getattr(dag, "tasks", [])} if dag else {},
        dag_display_name=getattr(dag, "dag_display_name", None) if dag else None,
    )


def run_xcoms(
    session: Any, runs: list[tuple[str, str]], outcomes: bool = True
) -> dict[tuple[str, str], dict[tuple[str, str], Any]]:
    """Our XComs of the given (dag_id, run_id) runs in one query, by run then (task_id, key): the
    gate's and the result task's ``return_value`` and (``outcomes``) every ``wfo_outcome``. A step's
    action result is not part of a trace."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import false, or_, select

    wanted = set(runs)
    columns = (
        XComModel.dag_id, XComModel.run_id, XComModel.task_id, XComModel.map_index, XComModel.key,
        XComModel.value,
    )
    query = select(*columns).where(
        XComModel.dag_id.in_({d for d, _ in wanted} or {""}),
        XComModel.run_id.in_({r for _, r in wanted} or {""}),
        or_(
            XComModel.key.in_([OUTCOME_KEY, WAITING_KEY]) if outcomes else false(),
            (XComModel.key == RETURN_KEY) & XComModel.task_id.in_([GATE_TASK_ID, RESULT_TASK_ID]),
        ),
    )
    found: dict[tuple[str, str], dict[tuple[str, str], Any]] = {}
    for dag_id, run_id, task_id, map_index, key, value in session.execute(query).all():
        if (dag_id, run_id) in wanted:
            decoded = XComModel.deserialize_value(_Row(value))
            run = found.setdefault((dag_id, run_id), {})
            run[(task_id, key)] = decoded
            if map_index is not None and map_index >= 0:
                # An item of a forEach step, also under its item key (``saga/items.py``).
                run[(item_key(task_id, map_index), key)] = decoded
    return found


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
        "map_index": getattr(ti, "map_index", -1),
    }


def _attempts(
    row: Mapping[str, Any], history: list[Mapping[str, Any]], outcome: Outcome | None
) -> list[Attempt]:
    rows = sorted(history, key=lambda r: int(r["try_number"] or 0))
    # A task the scheduler decided about without running it (upstream_failed, branch-skipped) has
    # try_number 0, though the scheduler may have stamped start/end dates on it.
    ran = int(row.get("try_number") or 0) >= 1 and row.get("state") not in ("upstream_failed", "removed")
    if ran and row.get("start_date") is not None and all(r["try_number"] != row["try_number"] for r in rows):
        rows.append(row)
    attempts: list[Attempt] = []
    for r in rows:
        number = int(r["try_number"] or 0)
        error = None
        if r is rows[-1] and outcome is not None and (outcome.attempt or number) == number:
            error = outcome.error
        elif r.get("state") in (UP_FOR_RETRY, "failed"):
            error = r.get("retry_reason")
        attempts.append(
            Attempt(
                attempt=number,
                state="failed" if r.get("state") == UP_FOR_RETRY else r.get("state"),
                start_time=r.get("start_date"),
                end_time=r.get("end_date"),
                duration=ms(r.get("start_date"), r.get("end_date")),
                error=redact_text(str(error)) if error else None,
                hostname=r.get("hostname"),
            )
        )
    return attempts


def _facts(
    row: Mapping[str, Any], attempts: list[Attempt], outcome: Outcome | None, waiting: Waiting | None = None
) -> TaskFacts:
    return TaskFacts(
        waiting=waiting,
        state=row.get("state"),
        outcome=outcome,
        tries=len(attempts),
        first_start=attempts[0].start_time if attempts else None,
        last_start=attempts[-1].start_time if attempts else None,
        last_end=attempts[-1].end_time if attempts else None,
    )


def _decision(xcoms: Mapping[tuple[str, str], Any], result: Mapping[str, Any]) -> GateDecision | None:
    recorded = GateDecision.from_xcom(xcoms.get((GATE_TASK_ID, RETURN_KEY)))
    if recorded is None and result:
        # No gate (a workflow without rollback decides in its result task), or a lost decision.
        return GateDecision.from_result(result)
    return recorded


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
    from airflow_provider_wfo.events.replay import replay

    current = {str(r["task_id"]): r for r in task_rows}
    history: dict[str, list[Mapping[str, Any]]] = {}
    for row in history_rows:
        history.setdefault(str(row["task_id"]), []).append(row)
    raw_result = xcoms.get((RESULT_TASK_ID, RETURN_KEY))
    result: Mapping[str, Any] = raw_result if isinstance(raw_result, Mapping) else {}
    names = _step_names(result, current)
    outcomes = {t: parse_outcome(xcoms.get((t, OUTCOME_KEY))) for t in current}
    attempts = {t: _attempts(current[t], history.get(t, []), outcomes[t]) for t in current}
    forward_ids = [t for t in _ordered(current, upstream) if is_forward_task_id(t)]
    item_facts, mapped = _items(task_rows, xcoms)
    plan = SagaPlan.observed(
        dag_id,
        forward_ids,
        upstream,
        rollback=[step_id_of(t) for t in current if is_compensation_task_id(t)],
        optional=[t for t in forward_ids if (outcomes[t] and outcomes[t].optional)],  # type: ignore[union-attr]
        mapped=mapped,
    )
    final = run_state in FINISHED_RUN_STATES
    run = derive(
        plan,
        {
            t: _facts(current[t], attempts[t], outcomes[t], parse_waiting(xcoms.get((t, WAITING_KEY))))
            for t in current
        }
        | item_facts,
        _decision(xcoms, result),
        final=final,
        names=names,
        start=run_start,
        end=run_end if final else None,
    )

    def task_trace(task_id: str) -> TraceTask:
        return _task_trace(
            task_id, run, attempts[task_id], outcomes[task_id], current[task_id], names, upstream
        )

    raw_decision = xcoms.get((GATE_TASK_ID, RETURN_KEY))
    trace = RunTrace(
        dag_id=dag_id,
        run_id=run_id,
        workflow_id=dag_id,
        workflow_name=str(result.get("workflowName") or dag_display_name or dag_id),
        state=run_state,
        status=run.status.value,
        start_time=run_start,
        end_time=run_end,
        duration=run.duration,
        error=redact_text(run.error) if run.error else None,
        failed_step=run.failed_step,
        rollback_performed=run.rollback_performed,
        conf=redact(dict(conf)),
        progress=run.progress,
        steps=[task_trace(t) for t in forward_ids],
        compensations={step_id_of(t): task_trace(t) for t in current if is_compensation_task_id(t)},
        decision=redact(dict(raw_decision)) if isinstance(raw_decision, Mapping) else None,
    )
    trace.events = replay(trace, plan, current, run)
    return trace


def _items(
    task_rows: Iterable[Mapping[str, Any]], xcoms: Mapping[tuple[str, str], Any]
) -> tuple[dict[str, TaskFacts], set[str]]:
    """The items of forEach steps (and of their compensations) by item key, as derive reads them, and
    the ids of the steps they belong to."""
    rows = {
        item_key(str(r["task_id"]), int(r["map_index"])): r
        for r in task_rows
        if isinstance(r.get("map_index"), int) and r["map_index"] >= 0
    }
    facts = {
        key: TaskFacts(
            state=row.get("state"),
            outcome=parse_outcome(xcoms.get((key, OUTCOME_KEY))),
            tries=int(row.get("try_number") or 0),
            last_start=row.get("start_date"),
            last_end=row.get("end_date"),
        )
        for key, row in rows.items()
    }
    return facts, {step_id_of(str(r["task_id"])) for r in rows.values()}


def _task_trace(
    task_id: str,
    run: RunState,
    task_attempts: list[Attempt],
    outcome: Outcome | None,
    row: Mapping[str, Any],
    names: Mapping[str, str],
    upstream: Mapping[str, list[str]],
) -> TraceTask:
    """One step's or compensation's trace: its attempts from the task history, its status and
    durations from the derived run."""
    step_id = step_id_of(task_id)
    phase = phase_of(task_id) or StepPhase.FORWARD
    step = run.by_id.get(step_id)
    if phase is StepPhase.FORWARD:
        status = step.status.value if step else None
        duration, span = (step.duration, step.span) if step else (None, None)
    else:
        comp = step.rollback if step else None
        status = comp.status.value if comp else None
        duration = comp.duration if comp else None
        span = ms(task_attempts[0].start_time, task_attempts[-1].end_time) if task_attempts else None
    params = outcome.params if outcome is not None else None
    failed = bool(task_attempts) and row.get("state") == "failed"
    return TraceTask(
        step_id=step_id,
        step_name=names.get(step_id, step_id),
        task_id=task_id,
        phase=phase,
        state=row.get("state"),
        status=status,
        attempts=task_attempts,
        start_time=task_attempts[0].start_time if task_attempts else None,
        end_time=task_attempts[-1].end_time if task_attempts else None,
        duration=duration,
        span=span,
        error=task_attempts[-1].error if failed else None,
        params=redact(dict(params)) if params is not None else None,
        upstream=[u for u in upstream.get(task_id, []) if is_forward_task_id(u)],
        note=state_note(step) if step is not None and phase is StepPhase.FORWARD else None,
    )


def _step_names(result: Mapping[str, Any], current: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for step in result.get("steps") or []:
        if isinstance(step, Mapping) and step.get("stepId"):
            names[str(step["stepId"])] = str(step.get("stepName") or step["stepId"])
    for task_id, row in current.items():
        if is_forward_task_id(task_id) and task_id not in names:
            names[task_id] = str(row.get("task_display_name") or task_id)
    return names


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
