"""``WfoApprovalOperator``: an ``approval.request`` step on Airflow's Human-in-the-loop operator.

It *is* Airflow's ``ApprovalOperator`` (options Approve / Reject), so the request shows in the UI's
"Required actions" and is answered there or over the REST API
(``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{step}/-1/hitlDetails``). On Airflow 3.3 the
task waits in ``awaiting_input``: no worker slot, no trigger. ``wfo run`` answers it from the terminal
(``local/answers.py``) through the same Airflow models the REST endpoint writes.

What we add to the operator:

* the saga's checks first (abort check, ``when``), and the params resolved by our reference language
  (``subject`` and ``body`` may reference earlier results; no Jinja: ``template_fields = ()``);
* ``onTimeout`` as the request's ``defaults``, which Airflow's scheduler applies when ``timeout`` passes;
* the answer as the step's result ``{approved, by, at, comment}``. A rejection (or a timeout into
  reject) fails the step without retry, so a required approval makes the saga roll back; who rejected
  and why is in the step's recorded summary and error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.definition.control import ApprovalParams
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.control import params_or_record, push_waiting, record
from airflow_provider_wfo.operators.outcome import utcnow
from airflow_provider_wfo.operators.step import WfoStepOperator
from airflow_provider_wfo.saga.names import WAITING_KEY
from airflow_provider_wfo.saga.plan import SagaPlan
from airflow_provider_wfo.saga.records import parse_time, parse_waiting

#: The approver's optional comment (the form field in the UI; ``params_input`` over REST).
COMMENT = "comment"
#: Who answered when the timeout chose the answer.
TIMEOUT_BY = "timeout"


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else ""


class WfoApprovalOperator(WfoStepOperator, ApprovalOperator):
    """``approval.request``: Airflow's ApprovalOperator with the saga's checks and result."""

    template_fields = ()
    ui_color = "#fff3cd"

    def __init__(self, *, step: WorkflowStep, plan: SagaPlan, **kwargs: Any) -> None:
        params = step.params
        timeout = params.get("timeout")
        on_timeout = params.get("onTimeout", "reject")
        kwargs.update(
            # The literal texts until execute() resolves their references (the UI shows the resolved ones).
            subject=_raw(params.get("subject")) or step.display_name,
            body=_raw(params.get("body")) or None,
            assigned_users=[{"id": a, "name": a} for a in params.get("assignees") or []] or None,
            response_timeout=timedelta(milliseconds=timeout) if isinstance(timeout, int) else None,
            defaults=ApprovalOperator.APPROVE if on_timeout == "approve" else ApprovalOperator.REJECT,
            params={COMMENT: Param("", type="string", description="Why (optional)", source="task")},
            fail_on_reject=False,
            retries=0,
        )
        super().__init__(step=step, plan=plan, **kwargs)

    def execute(self, context: Any) -> Any:
        self._abort_check(context)
        step = self.wfo_step
        ti = context["ti"]
        start = utcnow()
        model = params_or_record(self, context, step, self.wfo_plan.order, start)
        assert isinstance(model, ApprovalParams)
        self.subject = model.subject
        self.body = model.body
        until = start + self.response_timeout if self.response_timeout else None
        push_waiting(
            ti,
            "approval",
            until,
            {
                "subject": model.subject,
                "assignees": list(model.assignees),
                "onTimeout": model.on_timeout,
            },
        )
        self.log.info("asking for approval: %s", model.subject)
        return ApprovalOperator.execute(self, context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        """The answer arrived (a person, or the timeout's default): the result, or the step fails."""
        ti = context["ti"]
        step = self.wfo_step
        waiting = parse_waiting(ti.xcom_pull(task_ids=ti.task_id, key=WAITING_KEY))
        start = (waiting.since if waiting else None) or utcnow()
        if "error" in event:  # no answer and no default: cannot happen with onTimeout, but say so
            error = f"step {step.id!r}: no answer: {event.get('error')}"
            record(self, ti, status="failed", start=start, error=error, optional=step.optional)
            raise AirflowFailException(error)
        answer = answer_of(event)
        if answer["approved"]:
            record(self, ti, status="success", start=start, result=answer, optional=step.optional)
            return answer
        why = f": {answer['comment']}" if answer["comment"] else ""
        error = (
            f"step {step.id!r}: not approved: the timeout passed (onTimeout: reject)"
            if answer["by"] == TIMEOUT_BY
            else f"step {step.id!r}: rejected by {answer['by']}{why}"
        )
        record(self, ti, status="failed", start=start, error=error, result=answer, optional=step.optional)
        raise AirflowFailException(error)


def answer_of(event: Mapping[str, Any]) -> dict[str, Any]:
    """``{approved, by, at, comment}`` from the resume event Airflow built from the HITL response."""
    chosen = list(event.get("chosen_options") or [])
    user = event.get("responded_by_user")
    timed_out = bool(event.get("timedout")) or not user
    at = event.get("responded_at")
    moment = at if isinstance(at, datetime) else parse_time(at)
    params_input = event.get("params_input") or {}
    comment = params_input.get(COMMENT) if isinstance(params_input, Mapping) else None
    if timed_out:
        by = TIMEOUT_BY
    elif isinstance(user, Mapping):
        by = str(user.get("name") or user.get("id"))
    else:
        by = str(user)
    return {
        "approved": chosen == [ApprovalOperator.APPROVE],
        "by": by,
        "at": moment.isoformat() if moment else None,
        "comment": str(comment) if comment else None,
        **({"timedOut": True} if timed_out else {}),
    }
