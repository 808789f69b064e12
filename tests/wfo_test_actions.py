"""Test actions (target ``test``) that record every call, in order, to a JSON-lines file.

``do``   params: ``fail`` = "always" | "once" (first attempt only) | "fatal" (non-retryable),
         ``sleep`` = seconds, anything else is echoed back as the result (plus ``value``).
``undo`` the same knobs, used as the rollback action.

Every call appends ``{"action", "step", "key", "attempt", "rollback", "params"}`` to the file named by
:func:`calls_file` (set per test by the ``wfo_calls`` fixture), so a test can assert order and
idempotency keys across an in-process ``dag.test`` run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from airflow_provider_wfo.actions.registry import (
    ActionContext,
    ActionError,
    NonRetryableActionError,
    register_action,
)

TARGET = "test"
_ENV = "WFO_TEST_CALLS"


def calls_file() -> Path | None:
    value = os.environ.get(_ENV)
    return Path(value) if value else None


def set_calls_file(path: Path | None) -> None:
    if path is None:
        os.environ.pop(_ENV, None)
    else:
        os.environ[_ENV] = str(path)


def read_calls(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or calls_file()
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _record(name: str, params: dict[str, Any], ctx: ActionContext) -> None:
    path = calls_file()
    if path is None:
        return
    entry = {
        "action": name,
        "step": ctx.step_id,
        "key": ctx.idempotency_key,
        "attempt": ctx.attempt,
        "rollback": ctx.is_rollback,
        "conn_id": ctx.conn_id,
        "params": params,
    }
    with path.open("a") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


def _behave(name: str, params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    _record(name, params, ctx)
    if params.get("sleep"):
        time.sleep(float(params["sleep"]))
    fail = params.get("fail")
    if fail == "always":
        raise ActionError(f"{ctx.step_id}: planned failure")
    if fail == "once" and ctx.attempt <= 1:
        raise ActionError(f"{ctx.step_id}: planned failure on the first attempt")
    if fail == "fatal":
        raise NonRetryableActionError(f"{ctx.step_id}: planned non-retryable failure")
    return {"value": f"{ctx.step_id}-{name}", "echo": params, "id": f"id-{ctx.step_id}"}


@register_action(TARGET, "do")
def do(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    return _behave("do", params, ctx)


@register_action(TARGET, "undo")
def undo(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    return _behave("undo", params, ctx)
