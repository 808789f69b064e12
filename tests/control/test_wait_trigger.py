"""``WfoWaitTrigger.not_before``: the event is held back until then, whatever it says.

This is what keeps a wait that ends right after it deferred clear of Airflow 3.3's stale-exit race
(``RESUME_SETTLE`` in ``operators/wait.py``); the stack test in ``test_control_stack.py`` runs waits on a
real triggerer."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_wfo.triggers.wait import WfoWaitTrigger


def _first_event(trigger: WfoWaitTrigger) -> tuple[dict[str, Any], datetime]:
    async def first() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    event = asyncio.run(asyncio.wait_for(first(), timeout=60))
    return event.payload, datetime.now(timezone.utc)


def _soon(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def test_a_delay_already_due_fires_at_once_without_not_before() -> None:
    hold = datetime.fromisoformat(_soon(1.5))
    started = datetime.now(timezone.utc).isoformat()
    payload, at = _first_event(WfoWaitTrigger(mode="delay", started=started, moment=started))
    assert payload["status"] == "done" and at < hold


def test_a_delay_already_due_is_held_until_not_before() -> None:
    started = datetime.now(timezone.utc).isoformat()
    hold = _soon(1.5)
    payload, at = _first_event(WfoWaitTrigger(mode="delay", started=started, moment=started, not_before=hold))
    assert payload["status"] == "done" and payload["waitedUntil"] == started
    assert at >= datetime.fromisoformat(hold)
    assert datetime.fromisoformat(payload["resumedAt"]) >= datetime.fromisoformat(hold)


def test_a_poll_that_holds_at_once_is_held_until_not_before() -> None:
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/status").respond_with_json({"state": "done"})
    server.start()
    try:
        hold = _soon(1.5)
        trigger = WfoWaitTrigger(
            mode="poll",
            started=datetime.now(timezone.utc).isoformat(),
            request={"url": server.url_for("/status")},
            condition={"==": ["$response.body.state", "done"]},
            interval=0.1,
            deadline=_soon(60),
            not_before=hold,
        )
        payload, at = _first_event(trigger)
        assert payload["status"] == "done" and payload["polls"] == 1
        assert at >= datetime.fromisoformat(hold)
        assert datetime.fromisoformat(payload["resumedAt"]) >= datetime.fromisoformat(hold)
        assert len(server.log) == 1  # held, not polling on
    finally:
        server.clear()
        server.stop()


def test_not_before_survives_serialization() -> None:
    hold = _soon(5)
    trigger = WfoWaitTrigger(mode="delay", started=hold, moment=hold, not_before=hold)
    _, kwargs = trigger.serialize()
    json.dumps(kwargs)
    assert WfoWaitTrigger(**kwargs).not_before == hold
