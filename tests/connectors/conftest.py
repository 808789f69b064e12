"""Fixtures for connector tests: an ActionContext factory and per-test connections via env JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.actions.registry import ActionContext, get_action

TARGETS = ("drive", "sheets", "slack", "trello", "notion", "email")


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **conn: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local workspace, wired to every wfo_<target> connection."""
    ws = tmp_path / "ws"
    for target in TARGETS:
        set_conn(monkeypatch, f"wfo_{target}", conn_type="wfo_local", extra={"workspace": str(ws)})
    return ws


Call = Callable[..., dict[str, Any]]


@pytest.fixture
def call() -> Call:
    """call(target, action, params, key="k1", attempt=1, conn_id=None, rollback=False) -> result."""

    def run(
        target: str,
        action: str,
        params: dict[str, Any],
        *,
        key: str = "dag:run1:step",
        attempt: int = 1,
        conn_id: str | None = None,
        rollback: bool = False,
    ) -> dict[str, Any]:
        ctx = ActionContext(
            target=target,
            action=action,
            conn_id=conn_id or f"wfo_{ {'gmail': 'email', 'integration': 'http'}.get(target, target) }",
            idempotency_key=key + (":rollback" if rollback else ""),
            dag_id="dag",
            run_id="run1",
            step_id=key.rsplit(":", 1)[-1],
            attempt=attempt,
            is_rollback=rollback,
            log=logging.getLogger("wfo.test.connector"),
        )
        result = get_action(target, action)(params, ctx)
        assert result is not None
        json.dumps(result)  # XCom stores JSON
        return dict(result)

    return run


def tree(root: Path) -> list[str]:
    """Every file under ``root`` except the .wfo bookkeeping, as relative paths."""
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".wfo" not in p.relative_to(root).parts
    )
