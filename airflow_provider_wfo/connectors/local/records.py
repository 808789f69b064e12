"""Local Trello cards and Notion pages: ``<workspace>/trello/cards/<id>.json``,
``<workspace>/notion/pages/<id>.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component


def create(
    ws: Workspace,
    target: str,
    kind: str,
    make: Callable[[], dict[str, Any]],
    result_of: Callable[[dict[str, Any]], dict[str, Any]],
    ctx: ActionContext,
) -> dict[str, Any]:
    """Store the record ``make()`` builds, unless an earlier attempt with this key stored one."""
    with ws.lock(target):
        previous = ws.recall(target, ctx.idempotency_key)
        if previous is not None and ws.path(target, kind, f"{previous['id']}.json").exists():
            ctx.log.info("%s: returning what an earlier attempt created (%s)", target, previous["id"])
            return previous
        record = {**make(), "idempotencyKey": ctx.idempotency_key}
        ws.write_json(ws.path(target, kind, f"{safe_component(record['id'], 'id')}.json"), record)
        result = result_of(record)
        ws.remember(target, ctx.idempotency_key, result)
        return result


def delete(ws: Workspace, target: str, kind: str, record_id: str) -> bool:
    """Remove a record; ``False`` when it was already gone (a rollback may be retried)."""
    safe_component(record_id, "id")
    with ws.lock(target):
        path = ws.path(target, kind, f"{record_id}.json")
        record = ws.read_json(path, None)
        path.unlink(missing_ok=True)
        if isinstance(record, dict):
            ws.forget(target, record.get("idempotencyKey"))
        ws.remove_empty_dirs(path.parent, ws.root)
        return record is not None


def load(ws: Workspace, target: str, kind: str, record_id: str) -> dict[str, Any] | None:
    found = ws.read_json(ws.path(target, kind, f"{safe_component(record_id, 'id')}.json"), None)
    return dict(found) if isinstance(found, dict) else None
