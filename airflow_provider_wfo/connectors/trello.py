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

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors._common import NonRetryableActionError, key_digest, raise_for_status
from airflow_provider_wfo.connectors.local.workspace import safe_component
from airflow_provider_wfo.connectors.runtime import Backend, LocalBackend
from airflow_provider_wfo.connectors.spec import (
    LOCAL_CONN_TYPE,
    ActionSpec,
    ConnectionType,
    Connector,
    ConnField,
    Params,
    Result,
    Text,
    TextList,
    param,
    required,
)

DEFAULT_BASE_URL = "https://api.trello.com"
CONNECTION = ConnectionType(
    conn_type="wfo_trello",
    hook_class="airflow_provider_wfo.connectors.hooks.trello.TrelloHook",
    hook_name="Trello (wfo)",
    hidden_fields=("schema", "port"),
    relabeling={"login": "API key", "password": "Token", "host": "API base URL (optional)"},
    placeholders={"host": DEFAULT_BASE_URL, "extra": '{"default_list_id": "..."}'},
    fields={
        "default_list_id": ConnField("Default list id", "Used when a step gives no listId."),
        "timeout": ConnField("Timeout (s)", type="number", default=30),
    },
)


class CreateCardParams(Params):
    name: Text = required("name", "title", description="Card name.", max_length=16384)
    description: Text | None = param("description", "desc", description="Card description (markdown).")
    listId: Text | None = param(
        "listId",
        "idList",
        description="List id (default: the connection extra default_list_id).",
        max_length=200,
    )
    labels: TextList | None = param(
        "labels", description="Label names (list or comma-separated), lower-cased."
    )
    due: Text | None = param("due", "dueDate", description="Due date (ISO 8601).", max_length=100)


class CardResult(Result):
    id: str
    cardId: str
    url: str | None
    shortUrl: str | None
    name: str | None
    listId: str | None
    labels: list[str]
    due: str | None


class DeleteCardParams(Params):
    cardId: Text = required("cardId", "id", description="The card id create_task returned.", max_length=200)


class DeleteCardResult(Result):
    cardId: str
    deleted: bool
    alreadyDeleted: bool


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


def card_result(card: dict[str, Any], labels: list[str]) -> CardResult:
    return CardResult(
        id=card["id"],
        cardId=card["id"],
        url=card.get("url") or card.get("shortUrl"),
        shortUrl=card.get("shortUrl") or card.get("url"),
        name=card.get("name"),
        listId=card.get("idList"),
        labels=labels,
        due=card.get("due"),
    )


class TrelloBackend(Backend):
    def inputs(self, params: CreateCardParams, local: bool) -> tuple[str, str, str, list[str]]:
        list_id = params.listId or str(self.extra.get("default_list_id") or "")
        if not list_id:
            if not local:
                raise NonRetryableActionError(
                    "param 'listId' is required (or the connection extra default_list_id)"
                )
            list_id = "default"
        marker = marker_line(self.ctx)
        desc = params.description or ""
        full_desc = f"{desc}\n\n---\n{marker}" if desc else marker
        labels = [label.lower() for label in params.labels or []]
        return safe_component(list_id, "listId"), full_desc, marker, labels


class LocalTrello(TrelloBackend, LocalBackend):
    def create_task(self, params: CreateCardParams) -> CardResult:
        from airflow_provider_wfo.connectors.local import records

        list_id, full_desc, _, labels = self.inputs(params, local=True)

        def make() -> dict[str, Any]:
            card_id = uuid.uuid4().hex[:24]
            return {
                "id": card_id,
                "name": params.name,
                "desc": full_desc,
                "idList": list_id,
                "labels": labels,
                "due": params.due,
                "url": f"wfo-local://trello/cards/{card_id}",
                "shortUrl": f"wfo-local://trello/c/{card_id[:8]}",
                "dateCreated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }

        made = records.create(
            self.ws, "trello", "cards", make, lambda c: card_result(c, labels).to_json(), self.ctx
        )
        return CardResult.model_validate(made)

    def delete_card(self, params: DeleteCardParams) -> DeleteCardResult:
        from airflow_provider_wfo.connectors.local import records

        card_id = safe_component(params.cardId, "cardId")
        existed = records.delete(self.ws, "trello", "cards", card_id)
        return DeleteCardResult(cardId=card_id, deleted=existed, alreadyDeleted=not existed)


class TrelloApi(TrelloBackend):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.timeout = float(self.extra.get("timeout", 30))

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
            raise self.scrub.error(exc, what, retryable=True) from None
        if response.status_code == 404:
            return None
        if not 200 <= response.status_code < 300:
            raise_for_status(response.status_code, what, self.scrub(response.text[:300]))
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

    def create_task(self, params: CreateCardParams) -> CardResult:
        list_id, full_desc, marker, labels = self.inputs(params, local=False)
        earlier = self.find_marked(list_id, marker)
        if earlier is not None:
            self.log.info("trello: returning the card an earlier attempt created (%s)", earlier["id"])
            return card_result(earlier, labels)
        query: dict[str, Any] = {"idList": list_id, "name": params.name, "desc": full_desc, "pos": "top"}
        if params.due:
            query["due"] = params.due
        if labels:
            query["idLabels"] = ",".join(self.label_ids(list_id, labels))
        card = self.call("POST", "/1/cards", query)
        if not card:
            raise NonRetryableActionError(f"trello: list {list_id!r} not found")
        return card_result(card, labels)

    def delete_card(self, params: DeleteCardParams) -> DeleteCardResult:
        card_id = safe_component(params.cardId, "cardId")
        found = self.call("DELETE", f"/1/cards/{card_id}")
        if found is None:
            self.log.info("trello: card %s is already gone", card_id)
        return DeleteCardResult(cardId=card_id, deleted=found is not None, alreadyDeleted=found is None)


CONNECTOR = Connector(
    target="trello",
    service="Trello",
    summary="Creates cards (labels by name, created when missing); undo deletes the card.",
    actions=(
        ActionSpec(
            "create_task",
            CreateCardParams,
            CardResult,
            "Create a card on a list.",
            rollback='delete_card {cardId: "$step.id"}',
            aliases=("create_card",),
        ),
        ActionSpec("delete_card", DeleteCardParams, DeleteCardResult, "Delete a card."),
    ),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.trello:LocalTrello",
        CONNECTION.conn_type: "airflow_provider_wfo.connectors.trello:TrelloApi",
    },
    connection_types=(CONNECTION,),
    doctor="airflow_provider_wfo.connectors.doctor.services:check_trello",
    real_backend="`HttpHook` (`TrelloHook`), Trello REST API",
)
