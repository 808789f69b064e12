"""Answering ``approval.request`` steps on the embedded default (``wfo run --approve/--reject``).

``dag.test`` leaves a Human-in-the-loop task parked in ``awaiting_input`` until a response is
recorded from outside; there is no api-server here to take one, and no scheduler to apply the
response timeout. So a background thread of the ``wfo run`` process does, with Airflow's own code:

* an answer is written exactly as the REST endpoint ``PATCH .../hitlDetails`` writes it (the
  ``HITLDetail`` row, then ``handle_event_submit``, which schedules the task's resume);
* the timeout is the scheduler's own sweep (``SchedulerJobRunner.check_awaiting_input_timeouts``),
  which applies the request's defaults (``onTimeout``).

``dag.test`` then resumes the task itself. An api-server sharing the same metadata DB could answer
just as well (the REST API or the UI's "Required actions").
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: How often the thread looks for a parked request (seconds). dag.test itself checks once a second.
POLL_SECONDS = 0.5
#: The answers handed to the sub-workflow runs started from this run (``local/child_run.py``): a step
#: id answers that step in the workflow and in the sub-workflows it runs locally.
ANSWERS_ENV = "WFO_APPROVAL_ANSWERS"


@dataclass(frozen=True)
class Answer:
    approve: bool
    comment: str | None = None


def parse_answers(approve: list[str] | None, reject: list[str] | None) -> dict[str, Answer]:
    """``STEP`` or ``STEP:comment`` values of ``--approve`` / ``--reject``; one answer per step."""
    answers: dict[str, Answer] = {}
    for values, approved in ((approve or [], True), (reject or [], False)):
        for value in values:
            step, _, comment = value.partition(":")
            step = step.strip()
            if not step:
                raise ValueError(f"{'--approve' if approved else '--reject'} needs a step id, got {value!r}")
            if step in answers:
                raise ValueError(f"step {step!r} is answered twice")
            answers[step] = Answer(approved, comment.strip() or None)
    return answers


def answers_to_env(answers: Mapping[str, Answer]) -> str:
    return json.dumps({step: [a.approve, a.comment] for step, a in answers.items()})


def answers_from_env() -> dict[str, Answer]:
    """The answers a parent run handed down (empty when none, or unreadable)."""
    try:
        raw = json.loads(os.environ.get(ANSWERS_ENV) or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {
        str(step): Answer(bool(v[0]), str(v[1]) if v[1] else None)
        for step, v in raw.items()
        if isinstance(v, list) and len(v) == 2
    }


def respondent() -> dict[str, str]:
    """Who answers from this terminal: the local user (the embedded default has no Airflow login)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        name = "local"
    return {"id": name, "name": name}


def record_answer(dag_id: str, run_id: str, task_id: str, answer: Answer, by: Mapping[str, str]) -> bool:
    """Record ``answer`` for the parked request of ``task_id`` as the REST endpoint does; False when
    there is no unanswered request (yet)."""
    from airflow._shared.timezones import timezone
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        ti = session.scalar(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
                TaskInstance.map_index == -1,
            )
        )
        if ti is None or ti.state != TaskInstanceState.AWAITING_INPUT:
            return False
        detail = session.scalar(select(HITLDetail).where(HITLDetail.ti_id == ti.id))
        if detail is None or detail.response_received:
            return False
        detail.responded_by = dict(by)
        detail.responded_at = timezone.utcnow()
        detail.chosen_options = ["Approve" if answer.approve else "Reject"]
        detail.params_input = {"comment": answer.comment} if answer.comment else {}
        session.add(detail)
        event = TriggerEvent(detail.as_resume_event_payload())  # type: ignore[no-untyped-call]
        handle_event_submit(event, task_instance=ti, session=session)
    return True


def parked(dag_id: str) -> list[tuple[str, str]]:
    """(run_id, task_id) of every unanswered request of ``dag_id``'s runs."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.run_id, TaskInstance.task_id).where(
                TaskInstance.dag_id == dag_id, TaskInstance.state == TaskInstanceState.AWAITING_INPUT
            )
        ).all()
    return [(str(r), str(t)) for r, t in rows]


def apply_timeouts() -> None:
    """Airflow's scheduler sweep for Human-in-the-loop timeouts, once (it reads ``self.log`` only)."""
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    class _Sweeper:
        log = logging.getLogger("airflow.jobs.scheduler_job_runner")

    sweep: Any = SchedulerJobRunner.check_awaiting_input_timeouts
    sweep(_Sweeper())


class ApprovalAnswerer(threading.Thread):
    """Answers the parked requests of ``dag_id`` named in ``answers`` and applies timeouts, until
    :meth:`stop`. Errors are logged and retried on the next pass (SQLite may be busy)."""

    def __init__(self, dag_id: str, answers: Mapping[str, Answer]) -> None:
        super().__init__(name=f"wfo-approvals-{dag_id}", daemon=True)
        self.dag_id = dag_id
        self.answers = dict(answers)
        self.by = respondent()
        self._stop_event = threading.Event()
        #: task ids answered so far, in order.
        self.answered: list[str] = []

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.wait(POLL_SECONDS):
            with contextlib.suppress(Exception):
                self._pass()

    def _pass(self) -> None:
        for run_id, task_id in parked(self.dag_id):
            answer = self.answers.get(task_id)
            if answer is not None and record_answer(self.dag_id, run_id, task_id, answer, self.by):
                self.answered.append(task_id)
        try:
            apply_timeouts()
        except Exception:
            log.debug("timeout sweep failed; trying again", exc_info=True)
