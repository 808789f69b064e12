"""THE status rules: from task states and recorded outcomes to step statuses, the workflow status,
progress and durations.

Every reader of a run uses :func:`derive`: the result task (final, in the worker), the events
listener (one step's view, in the worker, without reading other tasks), the audit trace and the
workflow view (from the metadata DB), and ``wfo run``'s live progress (polling the DB). They differ
only in how much they know, which :class:`TaskFacts` says; the rules are the same.

Decisions written down (``docs/saga.md``):

* A step's ``duration`` is its **last attempt's**; ``attempts`` says how many there were and
  ``span`` (first start to last end, retries and their delays included) is known where the task
  history is (trace, workflow view).
* ``percentComplete`` is 100 once the workflow reached a final status (COMPLETED, FAILED, ROLLED_BACK,
  ROLLBACK_FAILED): the run is over, the step counts say how it went. While it runs it is the share of
  forward steps that finished by completing or failing.
* A run's duration is Airflow's (DagRun start to end) once the run ended; the result task, which
  runs before that end, reports start to the moment it assembled the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from airflow_provider_wfo.results import (
    ActionResult,
    Progress,
    RollbackResult,
    StepResult,
    StepStatus,
    WorkflowResult,
    WorkflowStatus,
)
from airflow_provider_wfo.saga.names import (
    FAILED,
    FINISHED_STATES,
    SUCCESS,
    UP_FOR_RETRY,
    WAITING_STATES,
    compensation_task_id,
)
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan, decide
from airflow_provider_wfo.saga.records import Outcome, Waiting

#: Step statuses that count as "completed" / "failed" in progress.
RAN = frozenset({StepStatus.COMPLETED, StepStatus.ROLLED_BACK, StepStatus.ROLLBACK_FAILED})
FAILED_STATUSES = frozenset({StepStatus.FAILED, StepStatus.FAILED_OPTIONAL})
FINAL_STATUSES = frozenset({
    WorkflowStatus.COMPLETED,
    WorkflowStatus.FAILED,
    WorkflowStatus.ROLLED_BACK,
    WorkflowStatus.ROLLBACK_FAILED,
})
_RUNNING_STATES = frozenset({
    "running", UP_FOR_RETRY, "deferred", "awaiting_input", "restarting", "up_for_reschedule"
})


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


def _live_status(state: str | None) -> StepStatus:
    if state in _RUNNING_STATES:
        return StepStatus.RUNNING
    return StepStatus.PENDING


def _compensation(facts: TaskFacts, final: bool) -> CompensationState:
    outcome = facts.outcome or Outcome()
    if facts.state == SUCCESS:
        status, error = StepStatus.ROLLED_BACK, None
    elif facts.state in FINISHED_STATES or final:
        status = StepStatus.ROLLBACK_FAILED
        error = outcome.error or f"compensation ended {facts.state or 'without running'}"
    else:
        status, error = _live_status(facts.state), None
    return CompensationState(
        status=status,
        state=facts.state,
        attempts=outcome.attempt or facts.tries,
        duration=outcome.duration if outcome.duration is not None else ms(facts.last_start, facts.last_end),
        error=error,
        start=outcome.start or facts.last_start,
        end=outcome.end or facts.last_end,
    )


def step_status(
    plan: SagaPlan, step_id: str, facts: TaskFacts, compensation: CompensationState | None, final: bool
) -> StepStatus:
    """One forward step's status (the table in ``docs/saga.md``)."""
    state = facts.state
    if state == SUCCESS:
        undone = (StepStatus.ROLLED_BACK, StepStatus.ROLLBACK_FAILED)
        if compensation is not None and compensation.status in undone:
            return compensation.status
        return StepStatus.COMPLETED
    if state == FAILED:
        optional = step_id in plan.optional or bool(facts.outcome and facts.outcome.optional)
        return StepStatus.FAILED_OPTIONAL if optional else StepStatus.FAILED
    if state in FINISHED_STATES or final:
        return StepStatus.SKIPPED
    return _live_status(state)


def workflow_status(decision: GateDecision, compensation_states: Mapping[str, str | None]) -> WorkflowStatus:
    """COMPLETED, FAILED (nothing undone), ROLLED_BACK, or ROLLBACK_FAILED (some undo did not succeed)."""
    if not decision.failing:
        return WorkflowStatus.COMPLETED
    if not decision.compensate:
        return WorkflowStatus.FAILED
    if all(compensation_states.get(s) == SUCCESS for s in decision.compensate):
        return WorkflowStatus.ROLLED_BACK
    return WorkflowStatus.ROLLBACK_FAILED


def progress(
    steps: tuple[StepState, ...], status: WorkflowStatus, current_step_name: str | None = None
) -> Progress:
    completed = sum(1 for s in steps if s.status in RAN)
    failed = sum(1 for s in steps if s.status in FAILED_STATUSES)
    total = len(steps)
    ran = completed + failed
    percent = 100 if status in FINAL_STATUSES or not total else 100 * ran // total
    return Progress(
        current_step=ran,
        total_steps=total,
        completed_steps=completed,
        failed_steps=failed,
        status=status,
        percent_complete=percent,
        current_step_name=current_step_name,
    )


def recorded_status(run_state: str | None, result: Mapping[str, Any] | None) -> WorkflowStatus:
    """A run's saga status for a list of runs: what its result task recorded; before that, RUNNING
    (PENDING while queued). Without a readable result, a run Airflow ended ``success`` is COMPLETED
    (the result task fails the run otherwise) and one it ended ``failed`` is FAILED."""
    status = (result or {}).get("status")
    if isinstance(status, str) and status in WorkflowStatus.__members__:
        return WorkflowStatus(status)
    if run_state == "queued":
        return WorkflowStatus.PENDING
    if run_state == "success":
        return WorkflowStatus.COMPLETED
    if run_state == "failed":
        return WorkflowStatus.FAILED
    return WorkflowStatus.RUNNING


def started_progress(total: int) -> Progress:
    """Progress of a run whose first task is about to start."""
    return Progress(
        current_step=0, total_steps=total, completed_steps=0, failed_steps=0,
        status=WorkflowStatus.RUNNING, percent_complete=0,
    )


def step_progress(
    plan: SagaPlan, step_id: str, state: str, step_name: str | None, outcome: Outcome | None = None
) -> Progress:
    """The progress a step's own event reports: the steps it had to wait for completed, and it ended
    ``state``. Needs no read of other tasks (the listener's view); exact in a chain, a lower bound
    beside parallel branches. The trace replays the same numbers."""
    facts = {s: TaskFacts(state=SUCCESS) for s in plan.ancestors(step_id)}
    facts[step_id] = TaskFacts(state=state, outcome=outcome)
    run = derive(plan, facts, final=False, names={step_id: step_name or step_id}, current_step=step_id)
    return run.progress


def _step(
    plan: SagaPlan, step_id: str, facts: TaskFacts, comp: CompensationState | None, final: bool
) -> StepState:
    outcome = facts.outcome or Outcome()
    status = step_status(plan, step_id, facts, comp, final)
    start = outcome.start or facts.last_start
    end = outcome.end or facts.last_end
    ran = facts.state in (SUCCESS, FAILED)
    span_start = facts.first_start or start
    span_end = facts.last_end or end
    return StepState(
        step_id=step_id,
        status=status,
        state=facts.state,
        optional=step_id in plan.optional or bool(outcome.optional),
        attempts=outcome.attempt or facts.tries,
        start=start if ran or facts.state in _RUNNING_STATES else None,
        end=end if ran else None,
        duration=(outcome.duration if outcome.duration is not None else ms(start, end)) if ran else None,
        span=ms(span_start, span_end) if ran else None,
        error=outcome.error if status in FAILED_STATUSES else None,
        rollback=comp,
        waiting=facts.waiting if facts.state in WAITING_STATES else None,
        summary=outcome.result if ran else None,
    )


def _last_finished(steps: tuple[StepState, ...]) -> str | None:
    ended = [(s.end, s.step_id) for s in steps if s.end is not None and s.status in RAN | FAILED_STATUSES]
    return max(ended)[1] if ended else None


def derive(
    plan: SagaPlan,
    tasks: Mapping[str, TaskFacts],
    decision: GateDecision | None = None,
    *,
    final: bool,
    names: Mapping[str, str] | None = None,
    current_step: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> RunState:
    """The run as the saga sees it.

    ``final`` means no task of the run will run again (the result task, or a run Airflow ended): then
    a missing decision is made from the forward states, and a step that never ran is SKIPPED. Live, a
    step that has not finished is PENDING or RUNNING and the workflow is RUNNING (PENDING before any
    task started). ``current_step`` names the step progress reports as current; by default the one that
    finished last.
    """
    empty = TaskFacts()
    if decision is None and final:
        states = {s: tasks.get(s, empty).state for s in plan.order}
        decision = decide(plan, states)
    if decision is not None and decision.failing and decision.error is None and decision.failed_step:
        failed = tasks.get(decision.failed_step, empty).outcome
        told = failed.error if failed and failed.error else f"step {decision.failed_step!r} failed"
        decision = replace(decision, error=told)
    compensated = set(decision.compensate) if decision is not None else set()
    comps = {
        s: _compensation(tasks.get(compensation_task_id(s), empty), final) for s in compensated
    }
    steps = tuple(
        _step(plan, s, tasks.get(s, empty), comps.get(s), final) for s in plan.order
    )
    by_id = {s.step_id: s for s in steps}
    if final and decision is not None:
        comp_states = {s: tasks.get(compensation_task_id(s), empty).state for s in compensated}
        status = workflow_status(decision, comp_states)
    elif any(f.state is not None for f in tasks.values()):
        status = WorkflowStatus.RUNNING
    else:
        status = WorkflowStatus.PENDING
    if current_step is None:
        current_step = _last_finished(steps)
    step_name = (names or {}).get(current_step, current_step) if current_step else None
    error: str | None = None
    if decision is not None and decision.failing:
        error = "workflow failed"
        if decision.error:
            error = f"step {decision.failed_step!r} failed: {decision.error}"
    return RunState(
        status=status,
        steps=steps,
        progress=progress(steps, status, step_name),
        decision=decision,
        error=error,
        failed_step=decision.failed_step if decision is not None else None,
        rollback_performed=any(c.state in (SUCCESS, FAILED) for c in comps.values()),
        start=start,
        end=end,
        duration=ms(start, end),
        by_id=by_id,
    )


def workflow_result(
    plan: SagaPlan,
    run: RunState,
    *,
    workflow_name: str,
    step_names: Mapping[str, str],
    data: Mapping[str, Any],
    compensation_data: Mapping[str, Any] | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> WorkflowResult:
    """The seed's ``WorkflowResult`` of a derived run; ``data`` holds the completed steps' results."""
    steps: list[StepResult] = []
    for s in run.steps:
        rollback = None
        if s.rollback is not None:
            rollback = RollbackResult(
                status=s.rollback.status,
                attempts=s.rollback.attempts,
                duration=s.rollback.duration,
                error=s.rollback.error,
                result=(compensation_data or {}).get(s.step_id) if s.rollback.status == StepStatus.ROLLED_BACK
                else None,
            )
        value = data.get(s.step_id)
        result = None
        if s.state == SUCCESS:
            result = ActionResult(success=True, data=dict(value or {}))
        elif s.summary is not None and s.status in FAILED_STATUSES:
            # A failed control step still says what happened (who rejected, and why).
            result = ActionResult(success=False, data=dict(s.summary))
        steps.append(StepResult(
            step_id=s.step_id,
            step_name=step_names.get(s.step_id, s.step_id),
            status=s.status,
            optional=s.optional,
            result=result,
            error=s.error,
            start_time=s.start,
            end_time=s.end,
            duration=s.duration,
            attempts=s.attempts,
            rolled_back=s.status == StepStatus.ROLLED_BACK,
            rollback=rollback,
        ))
    return WorkflowResult(
        workflow_id=plan.workflow_id,
        workflow_name=workflow_name,
        status=run.status,
        start_time=run.start,
        end_time=run.end,
        duration=run.duration,
        steps=steps,
        progress=run.progress,
        success=run.status == WorkflowStatus.COMPLETED,
        error=run.error,
        rollback_performed=run.rollback_performed,
        failed_step=run.failed_step,
        dag_id=dag_id,
        run_id=run_id,
    )
