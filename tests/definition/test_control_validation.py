"""The control steps (wait, approval, workflow) at validate time: params, step fields, ``$response``,
the ``until`` condition, and the JSON Schema; and the wait trigger's stored form."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wfo.definition.schema import workflow_json_schema
from airflow_provider_wfo.definition.validation import validate_workflow

POLL = {"url": "https://api.example.com/jobs/1", "until": {"==": ["$response.body.state", "done"]},
        "interval": 1000, "timeout": 60000}


def wf(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "ctl", "name": "Control", "steps": list(steps), **extra}


def step(
    step_id: str, target: str, action: str, params: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": step_id, "target": target, "action": action, "params": params or {}, **extra}


def messages(defn: dict[str, Any]) -> list[str]:
    return validate_workflow(defn).messages


GOOD = [
    step("d1", "wait", "delay", {"duration": 5000}),
    step("d2", "wait", "delay", {"until": "2030-01-01T09:00:00+01:00"}),
    step("d3", "wait", "delay", {"until": "$resumeAt"}),
    step("p1", "wait", "poll", POLL),
    step("p2", "wait", "poll", {**POLL, "url": None, "endpoint": "/jobs/$d3.waitedUntil",
                                "until": "$response.body.finished", "method": "post", "json": {"a": 1}},
         connId="jobs_api"),
    step("a1", "approval", "request", {"subject": "Pay $amount?", "body": "Invoice ${run.runId}",
                                       "assignees": ["alice", "bob"], "timeout": 3600000,
                                       "onTimeout": "approve"}),
    step("a2", "approval", "request", {"subject": "OK?"}),
    step("w1", "workflow", "run", {"workflowId": "child-flow", "conf": {"amount": "$amount"}}),
]


def _clean(s: dict[str, Any]) -> dict[str, Any]:
    return {**s, "params": {k: v for k, v in s["params"].items() if v is not None}}


def test_good_control_steps_validate_and_satisfy_the_schema() -> None:
    defn = wf(*[_clean(s) for s in GOOD])
    assert messages(defn) == []
    jsonschema.Draft202012Validator(workflow_json_schema()).validate(defn)


@pytest.mark.parametrize(
    ("bad", "location", "text"),
    [
        (step("x", "wait", "delay", {}), "steps[0].params", "exactly one of 'duration'"),
        (step("x", "wait", "delay", {"duration": 5, "until": "2030-01-01T00:00:00Z"}), "steps[0].params",
         "exactly one of"),
        (step("x", "wait", "delay", {"duration": "5s"}), "steps[0].params.duration", "whole number"),
        (step("x", "wait", "delay", {"duration": -1}), "steps[0].params.duration", "at least 0"),
        (step("x", "wait", "delay", {"until": "tomorrow"}), "steps[0].params.until", "ISO 8601"),
        (step("x", "wait", "delay", {"until": "2030-01-01T09:00:00"}), "steps[0].params.until", "UTC offset"),
        (step("x", "wait", "delay", {"duration": 5, "unit": "s"}), "steps[0].params.unit", "unknown key"),
        (step("x", "wait", "sleep"), "steps[0].action", "its actions: delay, poll"),
        (step("x", "wait", "poll", {**POLL, "interval": 10}), "steps[0].params.interval", "at least 1000"),
        (step("x", "wait", "poll", {**POLL, "timeout": 1000}), "steps[0].params",
         "must be longer than interval"),
        (step("x", "wait", "poll", {k: v for k, v in POLL.items() if k != "timeout"}),
         "steps[0].params.timeout", "missing"),
        (step("x", "wait", "poll", {k: v for k, v in POLL.items() if k != "until"}),
         "steps[0].params.until", "missing"),
        (step("x", "wait", "poll", {**POLL, "endpoint": "/a"}), "steps[0].params", "exactly one of 'url'"),
        (step("x", "wait", "poll", {**POLL, "url": "ftp://x"}), "steps[0].params.url", "http:// or https://"),
        (step("x", "wait", "poll", {**POLL, "url": "https://me:pw@api.example.com/"}), "steps[0].params.url",
         "user info"),
        (step("x", "wait", "poll", {**POLL, "headers": {"Authorization": "Bearer $token"}}),
         "steps[0].params.headers", "connection"),
        (step("x", "wait", "poll", {**POLL, "query": {"api_key": "k"}}), "steps[0].params.query",
         "credential"),
        (step("x", "wait", "poll", {**POLL, "method": "FETCH"}), "steps[0].params.method", "one of GET"),
        (step("x", "wait", "poll", {**POLL, "until": {"===": ["$response.status", 200]}}),
         "steps[0].params.until", "unknown operator"),
        (step("x", "wait", "poll", {**POLL, "until": {">": [1]}}), "steps[0].params.until.>",
         "exactly two operands"),
        (step("x", "wait", "poll", {**POLL, "url": "https://a.example/$response.body"}),
         "steps[0].params.url", "'response' is neither a step id"),
        (step("x", "wait", "delay", {"duration": 5}, timeout=1000), "steps[0].timeout", "params.timeout"),
        (step("x", "approval", "request", {}), "steps[0].params.subject", "missing"),
        (step("x", "approval", "request", {"subject": ""}), "steps[0].params.subject", "must not be empty"),
        (step("x", "approval", "request", {"subject": "s", "assignees": "$approver"}),
         "steps[0].params.assignees", "not a reference"),
        (step("x", "approval", "request", {"subject": "s", "timeout": "$t"}), "steps[0].params.timeout",
         "not a reference"),
        (step("x", "approval", "request", {"subject": "s", "onTimeout": "ignore"}),
         "steps[0].params.onTimeout",
         "'reject' or 'approve'"),
        (step("x", "approval", "request", {"subject": "s"}, retryCount=2), "steps[0].retryCount",
         "never retried"),
        (step("x", "approval", "request", {"subject": "s"}, rollback={"target": "test", "action": "undo"}),
         "steps[0].rollback", "nothing to undo"),
        (step("x", "workflow", "run", {}), "steps[0].params.workflowId", "missing"),
        (step("x", "workflow", "run", {"workflowId": "$child"}), "steps[0].params.workflowId",
         "not a reference"),
        (step("x", "workflow", "run", {"workflowId": "no spaces"}), "steps[0].params.workflowId",
         "not a workflow id"),
        (step("x", "workflow", "run", {"workflowId": "ctl"}), "steps[0].params.workflowId", "runs itself"),
        (step("x", "workflow", "run", {"workflowId": "c", "conf": []}), "steps[0].params.conf", "an object"),
        (step("x", "test", "do", rollback={"target": "wait", "action": "delay", "params": {"duration": 1}}),
         "steps[0].rollback.target", "cannot undo"),
    ],
)
def test_bad_control_steps_are_located(bad: dict[str, Any], location: str, text: str) -> None:
    found = messages(wf(bad, params={"token": {"type": "string"}, "approver": {"type": "string"},
                                     "t": {"type": "integer"}, "child": {"type": "string"}}))
    assert any(m.startswith(f"{location}:") and text in m for m in found), found


def test_poll_until_may_read_upstream_results_and_params_but_response_only_there() -> None:
    defn = wf(step("start", "test", "do"),
              step("p", "wait", "poll", {**POLL, "until": {"==": ["$response.body.id", "$start.id"]}}),
              params={"amount": {"type": "number"}})
    assert messages(defn) == []
    later = wf(step("p", "wait", "poll", {**POLL, "until": {"==": ["$response.body.id", "$late.id"]}}),
               step("late", "test", "do"))
    assert any("late" in m and m.startswith("steps[0].params.until") for m in messages(later))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.one_of(st.integers(), st.text(max_size=20),
                                                                     st.none(), st.booleans()), max_size=5))
def test_hostile_params_never_raise_and_are_reported(params: dict[str, Any]) -> None:
    for target, action in (("wait", "delay"), ("wait", "poll"), ("approval", "request"), ("workflow", "run")):
        result = validate_workflow(wf(step("x", target, action, params)))
        assert all(issue.location for issue in result.errors)


def test_the_trigger_stores_no_credential_and_shows_no_kwargs() -> None:
    from airflow_provider_wfo.triggers.wait import WfoWaitTrigger

    trigger = WfoWaitTrigger(mode="poll", started="2030-01-01T00:00:00+00:00",
                             request={"endpoint": "/jobs/1"}, conn_id="jobs_api",
                             condition={"==": ["$response.status", 200]}, interval=1.0,
                             deadline="2030-01-01T01:00:00+00:00")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_wfo.triggers.wait.WfoWaitTrigger"
    assert WfoWaitTrigger(**kwargs).serialize() == (classpath, kwargs)
    json.dumps(kwargs)  # stored as JSON in the trigger table
    assert kwargs["conn_id"] == "jobs_api" and "password" not in json.dumps(kwargs)
    assert "jobs/1" not in repr(trigger) and "condition" not in repr(trigger)
