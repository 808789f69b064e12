"""Airflow listener: turns dag-run and task-instance lifecycle into workflow events.

Registered by the wfo plugin, so it runs wherever Airflow runs a piece of a workflow: task hooks
fire in the worker that ran the task (``RuntimeTaskInstance``), dag-run hooks in the scheduler
(``DagRun`` ORM object). Under ``dag.test`` everything fires in the calling process, except
``on_dag_run_running`` (the run is created running): there ``workflow:started`` is emitted just
before the run's first task starts.

Which event comes from what:

=================================  ===============================================================
task/run                            events
=================================  ===============================================================
dag run running                     workflow:started
forward step running                step:started
forward step success                step:completed, workflow:progress
forward step failed (will retry)    step:retrying
forward step failed                 step:failed, workflow:progress
forward step skipped itself         step:skipped, workflow:progress (saga aborted)
saga_decision success               rollback:started (when it chose compensations)
compensate.<s> success              step:rolled_back
compensate.<s> failed (will retry)  step:retrying (phase rollback)
compensate.<s> failed               step:failed (phase rollback)
dag run success / failed            rollback:completed or rollback:failed (when a rollback ran),
                                    then workflow:completed or workflow:failed
=================================  ===============================================================

Nothing in here may break a task: every hook catches everything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ParamSpec

from airflow.listeners import hookimpl

from airflow_provider_wfo.events.bus import workflow_events
from airflow_provider_wfo.events.model import StepPhase, WorkflowEvent, WorkflowEventType
from airflow_provider_wfo.events.note import note_text, set_run_note
from airflow_provider_wfo.events.sinks import flush_timeout, sink_registry
from airflow_provider_wfo.results import Progress, WorkflowStatus
from airflow_provider_wfo.saga import names
from airflow_provider_wfo.saga.names import (
    DAG_TEST_USER,
    GATE_TASK_ID,
    OUTCOME_KEY,
    RESULT_TASK_ID,
    RETURN_KEY,
    is_forward_task_id,
    phase_of,
    step_id_of,
)
from airflow_provider_wfo.saga.plan import GateDecision, SagaPlan
from airflow_provider_wfo.saga.records import error_text, parse_outcome, recorded
from airflow_provider_wfo.saga.status import recorded_status, started_progress, step_progress

log = logging.getLogger(__name__)
P = ParamSpec("P")

# Runs whose workflow:started this process already emitted (dag.test only; see module doc).
_started_runs: set[tuple[str, str]] = set()
_started_lock = threading.Lock()


def publish(event: WorkflowEvent) -> None:
    """Deliver to in-process handlers and to this process's configured sinks. Never raises."""
    try:
        workflow_events.emit(event)
    except Exception:
        log.exception("wfo: event bus failed")
    try:
        sink_registry.deliver(event)
    except Exception:
        log.exception("wfo: event sinks failed")


# --- recognising our DAGs and tasks ---------------------------------------------------------


def is_wfo_dag(dag: Any) -> bool:
    if dag is None:
        return False
    task_ids = getattr(dag, "task_ids", None) or list(getattr(dag, "task_dict", {}) or ())
    return names.is_wfo_dag(getattr(dag, "tags", None), task_ids)


def forward_task_ids(dag: Any) -> list[str]:
    ids = getattr(dag, "task_ids", None) or list(getattr(dag, "task_dict", {}) or ())
    return [t for t in ids if is_forward_task_id(t)]


def workflow_name(dag: Any, dag_id: str) -> str:
    name = getattr(dag, "dag_display_name", None)
    return str(name) if name else dag_id


def step_name(dag: Any, step_id: str) -> str:
    task = (getattr(dag, "task_dict", None) or {}).get(step_id)
    name = getattr(task, "task_display_name", None) if task is not None else None
    return str(name) if name else step_id


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def _redacted_error(error: Any) -> str | None:
    if error is None:
        return None
    if isinstance(error, BaseException):
        error = error_text(error)
    from airflow_provider_wfo.redaction import redact_text

    return redact_text(str(error))


# --- task-instance hooks (worker) --------------------------------------------------------------


class _TaskView:
    """What the hooks need from a RuntimeTaskInstance (worker) or a TaskInstance (api-server)."""

    def __init__(self, ti: Any) -> None:
        self.ti = ti
        self.task = getattr(ti, "task", None)
        self.dag = getattr(self.task, "dag", None) if self.task is not None else None
        self.dag_id: str = str(ti.dag_id)
        self.run_id: str = str(ti.run_id)
        self.task_id: str = str(ti.task_id)
        self.attempt: int | None = getattr(ti, "try_number", None)
        self.name = workflow_name(self.dag, self.dag_id)

    @property
    def step_id(self) -> str:
        return step_id_of(self.task_id)

    @property
    def phase(self) -> StepPhase | None:
        return phase_of(self.task_id)

    def event(self, type_: WorkflowEventType, **fields: Any) -> WorkflowEvent:
        base: dict[str, Any] = {
            "type": type_,
            "workflow_id": self.dag_id,
            "workflow_name": self.name,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
        }
        if self.phase is not None:
            base.update(
                step_id=self.step_id,
                step_name=step_name(self.dag, self.step_id),
                task_id=self.task_id,
                phase=self.phase,
                attempt=self.attempt,
            )
        base.update(fields)
        return WorkflowEvent(**base)

    def xcom(self, task_id: str, key: str) -> Any:
        pull = getattr(self.ti, "xcom_pull", None)
        if pull is None:
            return None
        try:
            return pull(task_ids=task_id, key=key)
        except Exception:
            log.debug("wfo: could not read XCom %s/%s", task_id, key, exc_info=True)
            return None

    def outcome(self) -> Mapping[str, Any]:
        value = recorded(self.ti) or self.xcom(self.task_id, OUTCOME_KEY)
        return value if isinstance(value, Mapping) else {}

    def dag_run_user(self) -> str | None:
        context = getattr(self.ti, "_ti_context_from_server", None)
        dag_run = getattr(context, "dag_run", None)
        return getattr(dag_run, "triggering_user_name", None)

    def progress(self, own_state: str) -> Progress | None:
        """Progress as this step knows it, without asking the API server (``saga.status.step_progress``)."""
        plan = getattr(self.task, "wfo_plan", None)
        if not isinstance(plan, SagaPlan) or self.step_id not in plan.upstream:
            return None
        outcome = parse_outcome(self.outcome())
        return step_progress(plan, self.step_id, own_state, step_name(self.dag, self.step_id), outcome)


def _view(task_instance: Any) -> _TaskView | None:
    try:
        view = _TaskView(task_instance)
    except Exception:
        return None
    if view.dag is None or not is_wfo_dag(view.dag):
        return None
    return view


def _guard(hook: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    def decorate(fn: Callable[P, None]) -> Callable[P, None]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("wfo listener %s failed; the workflow is not affected", hook)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


def _step_fields(view: _TaskView, error: Any = None) -> dict[str, Any]:
    outcome = view.outcome()
    start = getattr(view.ti, "start_date", None)
    end = getattr(view.ti, "end_date", None)
    duration = outcome.get("duration")
    fields: dict[str, Any] = {
        "duration": int(duration) if isinstance(duration, (int, float)) else _ms(start, end),
    }
    if isinstance(outcome.get("params"), Mapping):
        fields["params"] = dict(outcome["params"])
    err = outcome.get("error") or _redacted_error(error)
    if err:
        fields["error"] = str(err)
    return fields


def _maybe_dag_test_start(view: _TaskView) -> None:
    if view.dag_run_user() != DAG_TEST_USER:
        return
    key = (view.dag_id, view.run_id)
    with _started_lock:
        if key in _started_runs:
            return
        _started_runs.add(key)
    publish(
        WorkflowEvent(
            type=WorkflowEventType.WORKFLOW_STARTED,
            workflow_id=view.dag_id,
            workflow_name=view.name,
            dag_id=view.dag_id,
            run_id=view.run_id,
            progress=started_progress(len(forward_task_ids(view.dag))),
        )
    )


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _on_running(task_instance)


@_guard("on_task_instance_running")
def _on_running(task_instance: Any) -> None:
    view = _view(task_instance)
    if view is None:
        return
    _maybe_dag_test_start(view)
    if view.phase is StepPhase.FORWARD:
        publish(view.event(WorkflowEventType.STEP_STARTED))


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _on_success(task_instance)


@_guard("on_task_instance_success")
def _on_success(task_instance: Any) -> None:
    view = _view(task_instance)
    if view is None:
        return
    if view.phase is StepPhase.FORWARD:
        publish(view.event(WorkflowEventType.STEP_COMPLETED, **_step_fields(view)))
        _publish_progress(view, "success")
    elif view.phase is StepPhase.ROLLBACK:
        publish(view.event(WorkflowEventType.STEP_ROLLED_BACK, **_step_fields(view)))
    elif view.task_id == GATE_TASK_ID:
        decision = GateDecision.from_xcom(view.xcom(GATE_TASK_ID, RETURN_KEY))
        if decision is not None and decision.failing and decision.compensate:
            failed_step = decision.failed_step
            publish(
                view.event(
                    WorkflowEventType.ROLLBACK_STARTED,
                    step_id=failed_step,
                    step_name=step_name(view.dag, failed_step) if failed_step else None,
                    error=_redacted_error(decision.error),
                )
            )


def _publish_progress(view: _TaskView, own_state: str) -> None:
    progress = view.progress(own_state)
    if progress is not None:
        publish(
            view.event(
                WorkflowEventType.WORKFLOW_PROGRESS, progress=progress, attempt=None, task_id=view.task_id
            )
        )


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    _on_failed(task_instance, error)


@_guard("on_task_instance_failed")
def _on_failed(task_instance: Any, error: Any) -> None:
    view = _view(task_instance)
    if view is None or view.phase is None:
        return
    retrying = str(getattr(task_instance, "state", "")) in ("up_for_retry", "TaskInstanceState.UP_FOR_RETRY")
    fields = _step_fields(view, error)
    if retrying:
        publish(view.event(WorkflowEventType.STEP_RETRYING, **fields))
        return
    publish(view.event(WorkflowEventType.STEP_FAILED, **fields))
    if view.phase is StepPhase.FORWARD:
        _publish_progress(view, "failed")


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    _on_skipped(task_instance)


@_guard("on_task_instance_skipped")
def _on_skipped(task_instance: Any) -> None:
    view = _view(task_instance)
    if view is None or view.phase is not StepPhase.FORWARD:
        return
    publish(view.event(WorkflowEventType.STEP_SKIPPED))
    _publish_progress(view, "skipped")


@hookimpl
def before_stopping(component: Any) -> None:
    # A task process exits right after its last hook: give queued sinks (webhook) a bounded chance.
    try:
        sink_registry.flush(flush_timeout())
    except Exception:
        log.exception("wfo: flushing event sinks failed")


# --- dag-run hooks (scheduler; the calling process under dag.test) ------------------------------


def _run_dag(dag_run: Any) -> Any:
    dag = getattr(dag_run, "dag", None)
    if dag is not None:
        return dag
    try:
        from airflow.models.dagbag import DBDagBag

        return DBDagBag().get_dag_for_run(dag_run, session=_session(dag_run))
    except Exception:
        log.debug("wfo: could not load the DAG of %s", dag_run, exc_info=True)
        return None


def _session(dag_run: Any) -> Any:
    from sqlalchemy.orm import object_session

    return object_session(dag_run)


def _result_of(dag_run: Any) -> Mapping[str, Any]:
    """The WorkflowResult the result task pushed, read from the metadata DB."""
    from airflow.models.xcom import XComModel

    session = _session(dag_run)
    query = XComModel.get_many(
        run_id=dag_run.run_id,
        key=RETURN_KEY,
        dag_ids=dag_run.dag_id,
        task_ids=RESULT_TASK_ID,
    )
    if session is None:
        from airflow.utils.session import create_session

        with create_session() as new_session:
            row = new_session.execute(query.with_only_columns(XComModel.value)).first()
    else:
        row = session.execute(query.with_only_columns(XComModel.value)).first()
    if row is None:
        return {}
    value = XComModel.deserialize_value(row)
    return value if isinstance(value, Mapping) else {}


def _run_event(
    dag_run: Any, type_: WorkflowEventType, name: str | None = None, **fields: Any
) -> WorkflowEvent:
    dag = _run_dag(dag_run)
    return WorkflowEvent(
        type=type_,
        workflow_id=dag_run.dag_id,
        workflow_name=name or workflow_name(dag, dag_run.dag_id),
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        **fields,
    )


@hookimpl
def on_dag_run_running(dag_run: Any, msg: str) -> None:
    _on_run_running(dag_run)


@_guard("on_dag_run_running")
def _on_run_running(dag_run: Any) -> None:
    dag = _run_dag(dag_run)
    if not is_wfo_dag(dag):
        return
    total = len(forward_task_ids(dag))
    publish(_run_event(dag_run, WorkflowEventType.WORKFLOW_STARTED, progress=started_progress(total)))


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _on_run_finished(dag_run, True)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _on_run_finished(dag_run, False)


@_guard("on_dag_run_finished")
def _on_run_finished(dag_run: Any, success: bool) -> None:
    dag = _run_dag(dag_run)
    if not is_wfo_dag(dag):
        return
    with _started_lock:
        _started_runs.discard((dag_run.dag_id, dag_run.run_id))
    try:
        result = _result_of(dag_run)
    except Exception:
        log.exception("wfo: could not read the workflow result of %s", dag_run.run_id)
        result = {}
    state = "success" if success else "failed"
    status = recorded_status(state, result).value
    error = _redacted_error(result.get("error")) if result.get("error") else None
    # The run's duration is Airflow's (the same the trace and the workflow view show); the result
    # task's own figure ends when it assembled the result, a moment before the run ended.
    duration = _ms(getattr(dag_run, "start_date", None), getattr(dag_run, "end_date", None))
    if duration is None and isinstance(result.get("duration"), int):
        duration = result["duration"]
    try:
        set_run_note(dag_run, _redacted_error(note_text(result, status)) or status)
    except Exception:
        log.exception("wfo: could not set the note of %s", dag_run.run_id)
    progress: Progress | None = None
    if isinstance(result.get("progress"), Mapping):
        try:
            progress = Progress.model_validate(result["progress"])
        except Exception:
            progress = None
    failed_step = result.get("failedStep")
    name = result.get("workflowName")
    common: dict[str, Any] = {
        "duration": duration,
        "error": error,
        "status": status,
        "name": str(name) if name else None,
    }
    if result.get("rollbackPerformed"):
        publish(
            _run_event(
                dag_run,
                WorkflowEventType.ROLLBACK_FAILED
                if status == WorkflowStatus.ROLLBACK_FAILED.value
                else WorkflowEventType.ROLLBACK_COMPLETED,
                step_id=str(failed_step) if failed_step else None,
                **common,
            )
        )
    completed = success and status == WorkflowStatus.COMPLETED.value
    publish(
        _run_event(
            dag_run,
            WorkflowEventType.WORKFLOW_COMPLETED if completed else WorkflowEventType.WORKFLOW_FAILED,
            progress=progress,
            **common,
        )
    )
