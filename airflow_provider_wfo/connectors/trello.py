"""trello: ``create_task`` / ``create_card`` (name, description, listId, labels, due) and ``delete_card``.

Real backend: the Trello REST API (https://developer.atlassian.com/cloud/trello/rest/) through
Airflow's HTTP provider (:class:`~airflow_provider_wfo.connectors.hooks.trello.TrelloHook`).
Labels are given by name and lower-cased (the seed's "Labels: high, bug"); missing ones are created
on the list's board. Idempotency: the description ends with a marker line ``wfo-key: <digest>``;
an attempt first lists the cards of ``listId`` and returns the one carrying its marker.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors._common import (
    NonRetryableActionError,
    as_list,
    key_digest,
    opt_str,
    raise_for_status,
    req_str,
)
from airflow_provider_wfo.connectors.connections import ResolvedConnection, resolve, unsupported
from airflow_provider_wfo.connectors.local import records
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component

MARKER = "wfo-key:"
CARD_FIELDS = "id,name,desc,url,shortUrl,idList,due,idLabels"
LABEL_COLORS = {
    "bug": "red",
    "critical": "red",
    "high": "orange",
    "medium": "yellow",
    "low": "green",
    "review": "blue",
    "report": "purple",
}


def marker_line(ctx: ActionContext) -> str:
    return f"{MARKER} {key_digest(ctx)}"


class _Trello:
    def __init__(self, resolved: ResolvedConnection) -> None:
        self.resolved = resolved
        self.timeout = float(resolved.extra.get("timeout", 30))

    def call(self, method: str, endpoint: str, query: dict[str, Any] | None = None) -> Any:
        import requests

        from airflow_provider_wfo.connectors.hooks.trello import TrelloHook

        hook = TrelloHook(trello_conn_id=self.resolved.conn_id, method=method)
        options = {"check_response": False, "timeout": self.timeout}
        what = f"trello: {method} {endpoint.split('?')[0]}"
        try:
            if method == "GET":
                response = hook.run(endpoint, data=query, extra_options=options)
            else:
                response = hook.run(endpoint, extra_options=options, params=query)
        except requests.RequestException as exc:
            raise self.resolved.scrub.error(exc, what, retryable=True) from None
        if response.status_code == 404:
            return None
        if not 200 <= response.status_code < 300:
            raise_for_status(response.status_code, what, self.resolved.scrub(response.text[:300]))
        try:
            return response.json()
        except ValueError:
            return {}

    def find_marked(self, list_id: str, marker: str) -> dict[str, Any] | None:
        cards = self.call("GET", f"/1/lists/{list_id}/cards", {"fields": CARD_FIELDS})
        if cards is None:
            raise NonRetryableActionError(f"trello: list {list_id!r} not found")
        for card in cards:
            if marker in (card.get("desc") or "").splitlines():
                return dict(card)
        return None

    def label_ids(self, list_id: str, names: list[str]) -> list[str]:
        board = self.call("GET", f"/1/lists/{list_id}/board", {"fields": "id"})
        if not board:
            raise NonRetryableActionError(f"trello: list {list_id!r} not found")
        existing = self.call(
            "GET", f"/1/boards/{board['id']}/labels", {"fields": "id,name,color", "limit": 1000}
        )
        by_name = {str(label.get("name", "")).lower(): label["id"] for label in existing or []}
        ids = []
        for name in names:
            if name not in by_name:
                created = self.call(
                    "POST",
                    "/1/labels",
                    {"name": name, "color": LABEL_COLORS.get(name, "sky"), "idBoard": board["id"]},
                )
                by_name[name] = created["id"]
            ids.append(by_name[name])
        return ids


def _result(card: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    return {
        "id": card["id"],
        "cardId": card["id"],
        "url": card.get("url") or card.get("shortUrl"),
        "shortUrl": card.get("shortUrl") or card.get("url"),
        "name": card.get("name"),
        "listId": card.get("idList"),
        "labels": labels,
        "due": card.get("due"),
    }


def _params(
    params: dict[str, Any], resolved: ResolvedConnection
) -> tuple[str, str, str, list[str], str | None]:
    name = req_str(params, "name", "title")
    desc = opt_str(params, "description", "desc") or ""
    list_id = opt_str(params, "listId", "idList") or opt_str(resolved.extra, "default_list_id")
    if not list_id:
        if not resolved.is_local:
            raise NonRetryableActionError(
                "param 'listId' is required (or the connection extra default_list_id)"
            )
        list_id = "default"
    labels = [label.lower() for label in as_list(params.get("labels"), "labels")]
    due = opt_str(params, "due", "dueDate")
    return name, desc, safe_component(list_id, "listId"), labels, due


@register_builtin("trello", "create_card")
@register_builtin("trello", "create_task")
def create_card(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    name, desc, list_id, labels, due = _params(params, resolved)
    marker = marker_line(ctx)
    full_desc = f"{desc}\n\n---\n{marker}" if desc else marker
    if resolved.is_local:
        assert resolved.workspace is not None

        def make() -> dict[str, Any]:
            card_id = uuid.uuid4().hex[:24]
            return {
                "id": card_id,
                "name": name,
                "desc": full_desc,
                "idList": list_id,
                "labels": labels,
                "due": due,
                "url": f"wfo-local://trello/cards/{card_id}",
                "shortUrl": f"wfo-local://trello/c/{card_id[:8]}",
                "dateCreated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }

        return records.create(
            Workspace(resolved.workspace), "trello", "cards", make, lambda c: _result(c, labels), ctx
        )
    if resolved.conn_type != "wfo_trello":
        raise unsupported(resolved, "trello", "wfo_trello")
    api = _Trello(resolved)
    earlier = api.find_marked(list_id, marker)
    if earlier is not None:
        ctx.log.info("trello: returning the card an earlier attempt created (%s)", earlier["id"])
        return _result(earlier, labels)
    query: dict[str, Any] = {"idList": list_id, "name": name, "desc": full_desc, "pos": "top"}
    if due:
        query["due"] = due
    if labels:
        query["idLabels"] = ",".join(api.label_ids(list_id, labels))
    card = api.call("POST", "/1/cards", query)
    if not card:
        raise NonRetryableActionError(f"trello: list {list_id!r} not found")
    return _result(card, labels)


@register_builtin("trello", "delete_card")
def delete_card(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    card_id = safe_component(req_str(params, "cardId", "id"), "cardId")
    if resolved.is_local:
        assert resolved.workspace is not None
        existed = records.delete(Workspace(resolved.workspace), "trello", "cards", card_id)
        return {"cardId": card_id, "deleted": existed, "alreadyDeleted": not existed}
    if resolved.conn_type != "wfo_trello":
        raise unsupported(resolved, "trello", "wfo_trello")
    found = _Trello(resolved).call("DELETE", f"/1/cards/{card_id}")
    if found is None:
        ctx.log.info("trello: card %s is already gone", card_id)
    return {"cardId": card_id, "deleted": found is not None, "alreadyDeleted": found is None}
