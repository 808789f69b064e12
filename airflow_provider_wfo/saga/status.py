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
* A skipped step carries the ``reason`` its outcome recorded ("condition false", "saga aborted: ...");
  one skipped without running (its upstream was skipped or failed) has none.
* A ``forEach`` step (``saga/items.py`` for its state as a whole) has one :class:`ItemState` per item:
  its attempts, error and compensation. Its duration is the first item's start to the last item's end;
  its error is the resolver's (a bad list) or the first failed item's. When a required item failed, the
  step is FAILED and its completed items are still undone: then ``rollback`` says how that went.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from airflow_provider_wfo.results import Progress, StepStatus, WorkflowStatus
from airflow_provider_wfo.saga.facts import (
    FAILED_STATUSES,
    FINAL_STATUSES,
    RAN,
    CompensationState,
    ItemState,
    RunState,
    StepState,
    TaskFacts,
    ms,
)
from airflow_provider_wfo.saga.items import item_values, items_of, step_state
from airflow_provider_wfo.saga.names import (
    FAILED,
    FINISHED_STATES,
    SKIPPED,
    SUCCESS,
    UP_FOR_RETRY,
    WAITING_STATES,
    compensation_task_id,
    resolver_task_id,
)
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan, decide
from airflow_provider_wfo.saga.records import UNRECORDED_ERROR, Outcome

#: The facts it reads and the run it derives live in ``saga/facts.py``; re-exported for readers.
__all__ = [
    "CompensationState",
    "ItemState",
    "RunState",
    "StepState",
    "TaskFacts",
    "derive",
    "ms",
    "progress",
    "recorded_status",
    "started_progress",
    "step_progress",
    "step_status",
    "workflow_status",
]

_RUNNING_STATES = frozenset(
    {"running", UP_FOR_RETRY, "deferred", "awaiting_input", "restarting", "up_for_reschedule"}
)


#: What is known of a task that has no row yet (frozen, so one instance serves every lookup).
_NO_FACTS = TaskFacts()


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
        current_step=0,
        total_steps=total,
        completed_steps=0,
        failed_steps=0,
        status=WorkflowStatus.RUNNING,
        percent_complete=0,
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
        reason=outcome.reason if status == StepStatus.SKIPPED and facts.state == SKIPPED else None,
    )


def _item(
    plan: SagaPlan, step_id: str, index: int, facts: TaskFacts, comp: CompensationState | None, final: bool
) -> ItemState:
    one = _step(plan, step_id, facts, comp, final)
    return ItemState(
        index=index,
        status=one.status,
        state=one.state,
        attempts=one.attempts,
        start=one.start,
        end=one.end,
        duration=one.duration,
        error=one.error,
        rollback=comp,
        reason=one.reason,
    )


def _joined_compensation(items: tuple[ItemState, ...], final: bool) -> CompensationState | None:
    """The compensation of a forEach step as a whole: ROLLED_BACK when every completed item was
    undone, ROLLBACK_FAILED when one was not, otherwise the first unfinished one's status."""
    comps = [i.rollback for i in items if i.rollback is not None and i.state == SUCCESS]
    if not comps:
        return None
    statuses = [c.status for c in comps]
    if all(st == StepStatus.ROLLED_BACK for st in statuses):
        status = StepStatus.ROLLED_BACK
    elif StepStatus.ROLLBACK_FAILED in statuses:
        status = StepStatus.ROLLBACK_FAILED
    else:
        status = next(st for st in statuses if st != StepStatus.ROLLED_BACK)
    errors = [c.error for c in comps if c.error]
    starts = [c.start for c in comps if c.start is not None]
    ends = [c.end for c in comps if c.end is not None]
    start, end = (min(starts) if starts else None), (max(ends) if ends else None)
    return CompensationState(
        status=status,
        state=None,
        attempts=max(c.attempts for c in comps),
        duration=ms(start, end),
        error=errors[0] if errors else None,
        start=start,
        end=end,
    )


def _mapped_step(
    plan: SagaPlan,
    step_id: str,
    tasks: Mapping[str, TaskFacts],
    items: Mapping[str, Mapping[int, str]],
    compensated: bool,
    final: bool,
) -> StepState:
    """A forEach step from its resolver, its items and their compensations."""
    resolver = tasks.get(resolver_task_id(step_id), _NO_FACTS)
    item_facts = item_values(items, step_id, tasks)
    comp_facts = item_values(items, compensation_task_id(step_id), tasks) if compensated else {}
    item_states = tuple(
        _item(
            plan,
            step_id,
            index,
            facts,
            _compensation(comp_facts.get(index, _NO_FACTS), final)
            if compensated and facts.state == SUCCESS
            else None,
            final,
        )
        for index, facts in item_facts.items()
    )
    whole = step_state(resolver.state, tasks.get(step_id, _NO_FACTS).state, (i.state for i in item_states))
    rollback = _joined_compensation(item_states, final) if compensated else None
    optional = step_id in plan.optional
    if resolver.state != SUCCESS:
        # The list was never made: the resolver's own outcome (failed, skipped with a reason, ...).
        one = _step(plan, step_id, resolver, None, final)
        return replace(one, items=() if one.status == StepStatus.SKIPPED else None, optional=optional)
    ran = [i for i in item_states if i.state in (SUCCESS, FAILED)]
    failed = next((i for i in item_states if i.state == FAILED), None)
    if whole == SUCCESS:
        status = rollback.status if rollback is not None else StepStatus.COMPLETED
    elif whole == FAILED:
        status = StepStatus.FAILED_OPTIONAL if optional else StepStatus.FAILED
    elif whole in FINISHED_STATES or final:
        status = rollback.status if rollback is not None else StepStatus.SKIPPED
    else:
        status = _live_status(whole)
    starts = [i.start for i in item_states if i.start is not None] or (
        [resolver.last_start] if resolver.last_start else []
    )
    ends = [i.end for i in ran if i.end is not None]
    start = min(starts) if starts else None
    end = max(ends) if ends and whole in FINISHED_STATES else None
    return StepState(
        step_id=step_id,
        status=status,
        state=whole,
        optional=optional,
        attempts=max((i.attempts for i in item_states), default=0),
        start=start,
        end=end,
        duration=ms(start, end),
        span=ms(start, end),
        error=failed.error if failed is not None and status in FAILED_STATUSES else None,
        rollback=rollback,
        items=item_states,
    )


def _failed_outcome(
    plan: SagaPlan, tasks: Mapping[str, TaskFacts], items: Mapping[str, Mapping[int, str]], step_id: str
) -> Outcome | None:
    """The outcome that tells why a step failed: its own, or a forEach step's resolver's or first
    failed item's."""
    if step_id not in plan.mapped:
        facts = tasks.get(step_id)
        return facts.outcome if facts is not None else None
    resolver = tasks.get(resolver_task_id(step_id))
    if resolver is not None and resolver.state == FAILED:
        return resolver.outcome
    for facts in item_values(items, step_id, tasks).values():
        if facts.state == FAILED:
            return facts.outcome
    return None


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
    items = items_of(plan.mapped_task_ids, tasks) if plan.mapped else {}
    decision = _told_decision(plan, tasks, items, decision, final)
    compensated = set(decision.compensate) if decision is not None else set()
    comps = {
        s: _compensation(tasks.get(compensation_task_id(s), _NO_FACTS), final)
        for s in compensated
        if s not in plan.mapped
    }
    steps = tuple(
        _mapped_step(plan, s, tasks, items, s in compensated, final)
        if s in plan.mapped
        else _step(plan, s, tasks.get(s, _NO_FACTS), comps.get(s), final)
        for s in plan.order
    )
    by_id = {s.step_id: s for s in steps}
    status = _run_status(plan, tasks, decision, by_id, final)
    if current_step is None:
        current_step = _last_finished(steps)
    step_name = (names or {}).get(current_step, current_step) if current_step else None
    return RunState(
        status=status,
        steps=steps,
        progress=progress(steps, status, step_name),
        decision=decision,
        error=_run_error(decision),
        failed_step=decision.failed_step if decision is not None else None,
        rollback_performed=any(c.state in (SUCCESS, FAILED) for c in comps.values())
        or any(
            i.rollback is not None and i.rollback.state in (SUCCESS, FAILED)
            for s in steps
            for i in (s.items or ())
        ),
        start=start,
        end=end,
        duration=ms(start, end),
        by_id=by_id,
    )


def _told_decision(
    plan: SagaPlan,
    tasks: Mapping[str, TaskFacts],
    items: Mapping[str, Mapping[int, str]],
    decision: GateDecision | None,
    final: bool,
) -> GateDecision | None:
    """The gate's decision, made here from the forward states when a final view has none, with the
    failed step's error filled in."""
    if decision is None and final:
        states = (
            {k: f.state for k, f in tasks.items()}
            if plan.mapped
            else {s: tasks.get(s, _NO_FACTS).state for s in plan.order}
        )
        decision = decide(plan, states)
    if decision is not None and decision.failing and decision.error is None and decision.failed_step:
        failed = _failed_outcome(plan, tasks, items, decision.failed_step)
        told = failed.error if failed and failed.error else UNRECORDED_ERROR
        decision = replace(decision, error=told)
    return decision


def _run_status(
    plan: SagaPlan,
    tasks: Mapping[str, TaskFacts],
    decision: GateDecision | None,
    by_id: Mapping[str, StepState],
    final: bool,
) -> WorkflowStatus:
    if final and decision is not None:
        comp_states = {
            s: _compensation_state(by_id[s])
            if s in plan.mapped
            else tasks.get(compensation_task_id(s), _NO_FACTS).state
            for s in decision.compensate
        }
        return workflow_status(decision, comp_states)
    if any(f.state is not None for f in tasks.values()):
        return WorkflowStatus.RUNNING
    return WorkflowStatus.PENDING


def _run_error(decision: GateDecision | None) -> str | None:
    if decision is None or not decision.failing:
        return None
    if decision.error:
        return f"step {decision.failed_step!r} failed: {decision.error}"
    return "workflow failed"


def _compensation_state(step: StepState) -> str | None:
    """A forEach step's compensation as one task state: success when every completed item's
    compensation succeeded."""
    comps = [i.rollback for i in step.items or () if i.rollback is not None]
    if not comps:
        return None
    states = [c.state for c in comps]
    if all(st == SUCCESS for st in states):
        return SUCCESS
    return next((st for st in states if st != SUCCESS), None) or FAILED
