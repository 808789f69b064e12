"""``WfoWaitTrigger``: a ``wait`` step's waiting, on the triggerer (or inline under ``dag.test``).

One class for both actions:

* ``delay``: sleep until ``moment``, then fire.
* ``poll``: send the request, evaluate the ``until`` condition over ``$response`` (the closed
  evaluator of ``definition/conditions.py``: no eval), and repeat every ``interval`` seconds until it
  holds or ``deadline`` passes.

The deadline lives here, not in ``defer(timeout=)``: ``dag.test`` ignores that timeout, and on a
real scheduler it fires a sweep late. Everything the operator needs when it resumes (start time,
polls, the last response) comes back in the event, because ``dag.test`` drops ``defer(kwargs=)``.

``not_before`` holds back the event (whatever it says) until that moment: the operator sets it
``RESUME_SETTLE`` after the step started waiting, because Airflow 3.3 can fail a task whose trigger
fires before the scheduler has taken the worker's exit from the deferring attempt (``operators/wait.py``).

The serialized kwargs are stored in the ``trigger`` table, so they never hold a credential: a poll
with an ``endpoint`` names its connection by id and the trigger reads it itself
(``HttpAsyncHook``); params that would carry a secret (an ``Authorization`` header, a ``token``
query parameter, user info in a URL) are refused at validate time (``definition/control.py``).
``repr`` shows no kwargs either.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger
from airflow.triggers.base import TriggerEvent as _TriggerEvent

from airflow_provider_wfo.definition.control import POLL_REQUEST_TIMEOUT_S, RESPONSE_NAME

#: The body kept from a response (as the http connector keeps it).
MAX_BODY = 1024 * 1024
DROPPED_HEADERS = frozenset({"set-cookie", "set-cookie2"})
#: Network errors in a row after which the wait gives up (the step's retries may start it again).
MAX_CONSECUTIVE_FAILURES = 5
#: A long sleep is cut into pieces, so a cancelled trigger stops promptly and clocks may jump.
MAX_SLEEP_S = 60.0


def TriggerEvent(payload: dict[str, Any]) -> Any:
    return _TriggerEvent(payload)  # type: ignore[no-untyped-call]


DONE = "done"
TIMEOUT = "timeout"
ERROR = "error"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def _sleep_until(moment: datetime) -> None:
    while (left := (moment - _now()).total_seconds()) > 0:
        await asyncio.sleep(min(left, MAX_SLEEP_S))


def _body(raw: bytes, content_type: str, charset: str | None) -> tuple[Any, bool]:
    truncated = len(raw) > MAX_BODY
    if "json" in content_type.lower() and not truncated:
        try:
            return json.loads(raw.decode(charset or "utf-8") if raw else "null"), False
        except ValueError:
            pass
    return raw[:MAX_BODY].decode(charset or "utf-8", "replace"), truncated


def condition_holds(condition: Any, response: Mapping[str, Any]) -> bool:
    """The ``until`` condition over ``$response`` (the same evaluator as a step's ``when``)."""
    from airflow_provider_wfo.definition.conditions import evaluate

    return evaluate(condition, {RESPONSE_NAME: dict(response)}, where="until")


class WfoWaitTrigger(BaseTrigger):
    """Waits for a moment (``mode="delay"``) or for a condition over polled responses (``"poll"``)."""

    template_fields = ()

    def __init__(
        self,
        *,
        mode: str,
        started: str,
        moment: str | None = None,
        request: Mapping[str, Any] | None = None,
        conn_id: str | None = None,
        condition: Any = None,
        interval: float = 30.0,
        deadline: str | None = None,
        not_before: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.mode = mode
        self.started = started
        self.moment = moment
        self.request = dict(request or {})
        self.conn_id = conn_id
        self.condition = condition
        self.interval = float(interval)
        self.deadline = deadline
        self.not_before = not_before

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "mode": self.mode,
                "started": self.started,
                "moment": self.moment,
                "request": self.request,
                "conn_id": self.conn_id,
                "condition": self.condition,
                "interval": self.interval,
                "deadline": self.deadline,
                "not_before": self.not_before,
            },
        )

    def __repr__(self) -> str:
        # The default repr prints every kwarg into the triggerer's and the task's logs.
        return f"<WfoWaitTrigger {self.mode} until {self.moment or self.deadline}>"

    async def run(self) -> AsyncIterator[Any]:
        if self.mode == "delay":
            assert self.moment is not None
            await _sleep_until(_moment(self.moment))
            found = self._event(DONE, waitedUntil=self.moment)
        else:
            found = await self._poll()
        if self.not_before:
            await _sleep_until(_moment(self.not_before))
        # resumedAt: when the step is released, after any hold.
        yield TriggerEvent({**found, "resumedAt": _now().isoformat()})

    def _event(self, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "status": status,
            "mode": self.mode,
            "started": self.started,
            **extra,
        }

    async def _poll(self) -> dict[str, Any]:
        import aiohttp

        deadline = _moment(self.deadline) if self.deadline else None
        polls = failures = 0
        last: dict[str, Any] | None = None
        last_error = ""
        send = await self._sender()
        async with aiohttp.ClientSession() as session:
            while True:
                polls += 1
                left = (deadline - _now()).total_seconds() if deadline else POLL_REQUEST_TIMEOUT_S
                try:
                    last = await send(session, max(1.0, min(POLL_REQUEST_TIMEOUT_S, left)))
                    failures = 0
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    failures += 1
                    last_error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
                    self.log.warning("poll %d failed (%d in a row): %s", polls, failures, last_error)
                    if failures >= MAX_CONSECUTIVE_FAILURES:
                        return self._event(
                            ERROR,
                            polls=polls,
                            retryable=True,
                            error=f"{failures} polls in a row failed; last: {last_error}",
                        )
                else:
                    try:
                        if condition_holds(self.condition, last):
                            return self._event(DONE, polls=polls, response=last)
                        last_error = ""
                    except ValueError as exc:
                        # Not yet: a status document often lacks the field until the job is done.
                        last_error = f"the condition could not be evaluated on the response: {exc}"
                if deadline is not None and _now() >= deadline:
                    return self._event(TIMEOUT, polls=polls, response=last, error=last_error or None)
                pause = self.interval
                if deadline is not None:
                    pause = min(pause, max(0.0, (deadline - _now()).total_seconds()))
                await asyncio.sleep(pause)

    async def _sender(self) -> Any:
        """A function (session, timeout) -> response dict, for a URL or a connection's endpoint."""
        import aiohttp

        spec = self.request
        method = str(
            spec.get("method")
            or ("POST" if spec.get("json") is not None or spec.get("data") is not None else "GET")
        ).upper()
        headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        query = {str(k): str(v) for k, v in (spec.get("query") or {}).items()}
        body_json = spec.get("json")
        data = spec.get("data")
        if data is not None and not isinstance(data, (str, dict)):
            data = json.dumps(data)

        async def shape(response: Any) -> dict[str, Any]:
            raw = await response.read()
            body, truncated = _body(raw, response.headers.get("Content-Type", ""), response.charset)
            out = {
                "status": response.status,
                "ok": 200 <= response.status < 300,
                "headers": {k: v for k, v in response.headers.items() if k.lower() not in DROPPED_HEADERS},
                "body": body,
            }
            if truncated:
                out["bodyTruncated"] = True
            return out

        if spec.get("url"):
            url = str(spec["url"])

            async def send_url(session: Any, timeout: float) -> dict[str, Any]:
                async with session.request(
                    method,
                    url,
                    params=query or None,
                    headers=headers,
                    json=body_json,
                    data=data,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as response:
                    return await shape(response)

            return send_url

        from airflow.providers.http.hooks.http import HttpAsyncHook

        # The connection is read here, on the triggerer: its credentials never enter the kwargs.
        hook = HttpAsyncHook(method=method, http_conn_id=self.conn_id or "wfo_http", retry_limit=1)
        endpoint = str(spec.get("endpoint") or "")
        if query and method != "GET":
            from urllib.parse import urlencode

            endpoint += ("&" if "?" in endpoint else "?") + urlencode(query)

        async def send_endpoint(session: Any, timeout: float) -> dict[str, Any]:
            async with hook.session() as http:
                response = await http.run(
                    endpoint=endpoint,
                    data=(query or None) if method == "GET" else data,
                    json=body_json,
                    headers=headers,
                    extra_options={
                        "check_response": False,
                        "timeout": aiohttp.ClientTimeout(total=timeout),
                        # Connection credentials must not follow a redirect to another origin.
                        "allow_redirects": False,
                    },
                )
                return await shape(response)

        return send_endpoint
