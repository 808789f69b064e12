"""Local Slack and email: ``<workspace>/<target>/outbox.jsonl``, one JSON message a line."""

from __future__ import annotations

from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors.local.workspace import Workspace


def send(
    ws: Workspace, target: str, record: dict[str, Any], result: dict[str, Any], ctx: ActionContext
) -> dict[str, Any]:
    """Append ``record`` to the outbox unless an earlier attempt with this key already did."""
    with ws.lock(target):
        previous = ws.recall(target, ctx.idempotency_key)
        if previous is not None:
            ctx.log.info("%s: an earlier attempt already sent this message; not sending again", target)
            return previous
        ws.append_line(
            ws.path(target, "outbox.jsonl"), {**record, **result, "idempotencyKey": ctx.idempotency_key}
        )
        ws.remember(target, ctx.idempotency_key, result)
        return result


def read(ws: Workspace, target: str) -> list[dict[str, Any]]:
    import json

    path = ws.path(target, "outbox.jsonl")
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")  # JSON lines: only \n ends a record
    return [json.loads(line) for line in lines if line.strip()]
