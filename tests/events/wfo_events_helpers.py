"""Shared by the events tests (imported as a plain module: tests/ is not a package)."""

from __future__ import annotations

from typing import Any

SECRET = "tok-SECRET-9f3b1c"


def saga_defn(dag_id: str, fail_b: bool, name: str = "Events saga") -> dict[str, Any]:
    """a (with rollback) -> b (fails on every attempt when fail_b, one retry) -> c."""
    b_params: dict[str, Any] = {"fail": "always"} if fail_b else {"note": "ok"}
    return {
        "id": dag_id,
        "name": name,
        "steps": [
            {"id": "a", "name": "Create record", "action": "do", "target": "test",
             "params": {"order": "$orderId", "password": "$apiToken"},
             "rollback": {"action": "undo", "target": "test", "params": {"id": "$a.id"}}},
            {"id": "b", "name": "Notify", "action": "do", "target": "test", "retryCount": 1, "retryDelay": 0,
             "params": b_params},
            {"id": "c", "name": "Track", "action": "do", "target": "test", "params": {"x": 1}},
        ],
    }


CONF = {"orderId": "O-17", "apiToken": SECRET}


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def keys(self) -> list[tuple[str, str | None, int | None]]:
        return [(e.type.value, e.task_id, e.attempt) for e in self.events]
