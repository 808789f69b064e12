"""Helpers of the adversarial suite: call an action the way a step does, and read a workspace."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, canonical_target, get_action


def call(
    target: str,
    action: str,
    params: dict[str, Any],
    *,
    key: str = "dag:run1:step",
    conn_id: str | None = None,
    rollback: bool = False,
    attempt: int = 1,
) -> dict[str, Any]:
    """One attempt of ``target.action`` (the registry's callable, as the operators call it)."""
    ctx = ActionContext(
        target=target,
        action=action,
        conn_id=conn_id or f"wfo_{canonical_target(target)}",
        idempotency_key=key + (":rollback" if rollback else ""),
        dag_id="dag",
        run_id="run1",
        step_id=key.rsplit(":", 1)[-1],
        attempt=attempt,
        is_rollback=rollback,
        log=logging.getLogger("wfo.test.adversarial"),
    )
    result: dict[str, Any] = get_action(target, action)(params, ctx)
    json.dumps(result)  # what becomes an XCom is JSON
    return result


def set_conn(conn_id: str, **conn: Any) -> str:
    """Define a connection through the environment; returns the variable's name (to delete)."""
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    os.environ[name] = json.dumps(conn)
    return name


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256), to compare before and after."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
