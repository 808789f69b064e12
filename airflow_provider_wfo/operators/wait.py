"""``WfoWaitOperator``: a ``wait`` step (``delay`` or ``poll``), deferred to the triggerer.

``execute`` checks the saga (abort check), resolves and checks the params, records what the step waits
for (``wfo_waiting``) and defers to :class:`~airflow_provider_wfo.triggers.wait.WfoWaitTrigger`: from
then on no worker slot is held. ``resume`` runs when the trigger fires, records the outcome and returns
the result, or fails the step:

* the poll's ``timeout`` passed: ``AirflowFailException`` (the timeout is the step's whole budget, so
  no retry); the saga then applies as for any failed step;
* polls kept failing (network): a retryable error, so ``retryCount`` applies;
* the condition could not be evaluated on a response: ``AirflowFailException``.

A wait never resumes sooner than ``RESUME_SETTLE`` after it started waiting, and a delay no longer than that
is slept in the worker instead: see ``RESUME_SETTLE`` for the Airflow race this avoids.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_wfo.definition.control import RESPONSE_NAME, DelayParams, PollParams, parse_moment
from airflow_provider_wfo.definition.references import ReferenceError, find_references, resolve_string
from airflow_provider_wfo.operators.control import (
    escape_literal,
    push_waiting,
    record,
    resolve_control_params,
    under_dag_test,
)
from airflow_provider_wfo.operators.outcome import utcnow
from airflow_provider_wfo.operators.step import WfoStepOperator
from airflow_provider_wfo.saga.records import parse_time

#: The scheduler's own deadline on a deferral, past the trigger's: only a lost trigger reaches it.
MIN_DEFER_MARGIN = timedelta(minutes=5)

#: How long a deferred wait holds back its trigger's event. Airflow 3.3's scheduler fails a task whose
#: trigger fired before it took the executor's "success" for the attempt that deferred (it finds the
#: resumed attempt queued or running and calls it "killed externally": apache/airflow#67287, #72716;
#: only the ``scheduled`` case is fixed in 3.3.2). That window is the worker's exit plus a scheduler
#: loop: about a second when idle, 5.1-5.6 s measured here with both cores taken by other work. A
#: failure there rolls a whole transaction back, a hold costs a quick poll a few seconds, and a wait
#: shorter than the hold gains little by deferring (the resumed attempt starts a new task process), so
#: the hold is generous. ``dag.test`` has no scheduler and no such race, so there nothing is held.
RESUME_SETTLE = timedelta(seconds=10)


def safe_url(url: str) -> str:
    """The URL without user info and query (either may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _not_before(since: datetime, hold: bool) -> str | None:
    """When the trigger may release the step: ``RESUME_SETTLE`` after it started waiting."""
    return (since + RESUME_SETTLE).isoformat() if hold else None


def _margin(span: timedelta) -> timedelta:
    return max(MIN_DEFER_MARGIN, span / 10)


class WaitFailed(Exception):
    """Polls kept failing: retryable (the step's ``retryCount`` applies)."""


class WfoWaitOperator(WfoStepOperator):
    """``wait.delay`` / ``wait.poll``: waits on the triggerer, holding no worker slot."""

    ui_color = "#fdf6e3"

    def execute(self, context: Any) -> dict[str, Any]:
        self._abort_check(context)
        step = self.wfo_step
        ti = context["ti"]
        start = utcnow()
        keep = ("until",) if step.action == "poll" else ()
        try:
            model, resolved, scope = resolve_control_params(self, context, step, self.wfo_plan.order, keep)
            hold = not under_dag_test(context)
            if isinstance(model, DelayParams):
                return self._delay(ti, model, resolved, start, hold)
            assert isinstance(model, PollParams)
            condition = _prepare_condition(model.until, scope)
            return self._poll(ti, model, resolved, condition, start, hold)
        except AirflowFailException as exc:
            record(self, ti, status="failed", start=start, error=str(exc), optional=step.optional)
            raise

    def _delay(
        self, ti: Any, model: DelayParams, params: dict[str, Any], start: datetime, hold: bool
    ) -> dict[str, Any]:
        from airflow_provider_wfo.triggers.wait import WfoWaitTrigger

        moment = (
            start + timedelta(milliseconds=model.duration)
            if model.duration is not None
            else parse_moment(str(model.until))
        )
        if moment - start <= RESUME_SETTLE:
            # Past, or too close to be worth a deferral: sleep here (see RESUME_SETTLE).
            time.sleep(max(0.0, (moment - utcnow()).total_seconds()))
            result = {"waitedUntil": moment.isoformat(), "resumedAt": utcnow().isoformat()}
            record(
                self,
                ti,
                status="success",
                start=start,
                params=params,
                result=result,
                optional=self.wfo_step.optional,
            )
            return result
        since = push_waiting(ti, "delay", moment, {})
        self.log.info("waiting until %s, on the triggerer", moment.isoformat())
        self.defer(
            trigger=WfoWaitTrigger(
                mode="delay",
                started=start.isoformat(),
                moment=moment.isoformat(),
                not_before=_not_before(since, hold),
            ),
            method_name="resume",
            timeout=(moment - start) + _margin(moment - start),
        )

    def _poll(
        self,
        ti: Any,
        model: PollParams,
        params: dict[str, Any],
        condition: Any,
        start: datetime,
        hold: bool,
    ) -> dict[str, Any]:
        from airflow_provider_wfo.triggers.wait import WfoWaitTrigger

        deadline = start + timedelta(milliseconds=model.timeout)
        request = {
            "method": model.method,
            "url": model.url,
            "endpoint": model.endpoint,
            "headers": model.headers,
            "query": model.query,
            "json": model.json_body,
            "data": model.data,
        }
        shown = safe_url(model.url) if model.url else model.endpoint
        since = push_waiting(ti, "poll", deadline, {"request": shown, "interval": model.interval})
        self.log.info(
            "polling %s every %d ms until the condition holds (at most until %s)",
            shown,
            model.interval,
            deadline.isoformat(),
        )
        self.defer(
            trigger=WfoWaitTrigger(
                mode="poll",
                started=start.isoformat(),
                request={k: v for k, v in request.items() if v not in (None, {})},
                conn_id=self.wfo_step.conn_id or "wfo_http",
                condition=condition,
                interval=model.interval / 1000,
                deadline=deadline.isoformat(),
                not_before=_not_before(since, hold),
            ),
            method_name="resume",
            timeout=(deadline - start) + _margin(deadline - start),
        )

    def resume(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """The trigger fired: the step's result, or its failure."""
        ti = context["ti"]
        step = self.wfo_step
        start = parse_time(event.get("started")) or utcnow()
        status = event.get("status")
        polls = event.get("polls")
        response = event.get("response") if isinstance(event.get("response"), dict) else None
        summary: dict[str, Any] = {"resumedAt": event.get("resumedAt")}
        if event.get("mode") == "delay":
            summary["waitedUntil"] = event.get("waitedUntil")
        else:
            summary["polls"] = polls
            if response is not None:
                summary["lastStatus"] = response.get("status")
        if status == "done":
            result = dict(summary)
            if response is not None:
                result.update(
                    {
                        k: response[k]
                        for k in ("status", "ok", "headers", "body", "bodyTruncated")
                        if k in response
                    }
                )
            record(self, ti, status="success", start=start, result=summary, optional=step.optional)
            return result
        if status == "timeout":
            timeout = step.params.get("timeout")
            last = f"; last status {response.get('status')}" if response is not None else ""
            error = str(event.get("error") or "")
            told = f"wait timed out after {polls} polls (timeout {timeout} ms){last}"
            if error:
                told += f"; last error: {error}"
            record(self, ti, status="failed", start=start, error=told, result=summary, optional=step.optional)
            raise AirflowFailException(f"step {step.id!r}: {told}")
        error = str(event.get("error") or f"the wait ended with {status!r}")
        retryable = bool(event.get("retryable"))
        will_retry = retryable and int(ti.try_number or 1) <= (self.retries or 0)
        record(
            self,
            ti,
            status="failed",
            start=start,
            error=error,
            result=summary,
            optional=step.optional,
            will_retry=will_retry,
        )
        if retryable:
            raise WaitFailed(f"step {step.id!r}: {error}")
        raise AirflowFailException(f"step {step.id!r}: {error}")


def _prepare_condition(condition: Any, scope: dict[str, Any]) -> Any:
    """The ``until`` condition with every reference except ``$response`` replaced by its value (made
    inert with ``$$``), so the trigger needs no scope but the response, and no step result travels."""
    known = {*scope, RESPONSE_NAME}

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, f"{where}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if not isinstance(node, str) or "$" not in node:
            return node
        try:
            names = {ref.name for _, ref in find_references(node, known)}
        except ReferenceError as exc:
            raise AirflowFailException(str(exc)) from exc
        if RESPONSE_NAME in names:
            if names != {RESPONSE_NAME}:
                raise AirflowFailException(
                    f"{where}: a string that reads $response cannot read anything else; split it"
                )
            return node
        try:
            return escape_literal(resolve_string(node, scope, where))
        except ReferenceError as exc:
            raise AirflowFailException(str(exc)) from exc

    return walk(condition, "params.until")
