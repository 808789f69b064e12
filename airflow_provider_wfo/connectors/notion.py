"""notion: ``create_task`` / ``create_page`` in a database, and ``archive_page`` (its rollback).

Params: ``databaseId`` (or the connection extra ``default_database_id``), ``title``, ``properties``
(name -> plain value, e.g. the seed's Date, Time, Duration, Attendees, Type; each is converted to
the database's property type: title, rich_text, number, select, status, multi_select, date,
checkbox, url, email, phone_number; values for other or unknown properties are written into the
page body as "Name: value" lines), ``content`` (page body text).

Real backend: the official ``notion-client`` (API version 2025-09-03: a database holds data
sources; pages are created under its first data source). Idempotency: if the data source has a
rich_text property named ``WFO Key`` (extra ``idempotency_property``), the page stores the digest
of the step's key there and an attempt first queries for it. Without that property a retried step
may create a second page (logged as a warning): add the property to the database to prevent it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    as_list,
    jsonable,
    key_digest,
    opt_str,
    raise_for_status,
    req_str,
)
from airflow_provider_wfo.connectors.connections import ResolvedConnection, resolve, unsupported
from airflow_provider_wfo.connectors.local import records
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component

DEFAULT_KEY_PROPERTY = "WFO Key"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _rich(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": {"content": text[i : i + 2000]}} for i in range(0, len(text), 2000)
    ] or []


def convert(prop_type: str, value: Any) -> dict[str, Any] | None:
    """A plain value as a Notion property value of ``prop_type``; ``None`` if it cannot be set."""
    if prop_type == "title":
        return {"title": _rich(_text(value))}
    if prop_type == "rich_text":
        return {"rich_text": _rich(_text(value))}
    if prop_type == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"number": value}
        match = _NUMBER.search(_text(value))
        return {"number": float(match.group()) if match else None}
    if prop_type in ("select", "status"):
        return {prop_type: {"name": _text(value)[:100]}}
    if prop_type == "multi_select":
        return {"multi_select": [{"name": v[:100]} for v in as_list(value, "multi_select")]}
    if prop_type == "date":
        if isinstance(value, dict):
            return {"date": value}
        return {"date": {"start": _text(value)}}
    if prop_type == "checkbox":
        return {
            "checkbox": value if isinstance(value, bool) else _text(value).lower() in ("true", "yes", "1")
        }
    if prop_type in ("url", "email", "phone_number"):
        return {prop_type: _text(value)}
    return None


def paragraphs(lines: list[str]) -> list[dict[str, Any]]:
    return [
        {"object": "block", "type": "paragraph", "paragraph": {"rich_text": _rich(line)}}
        for line in lines[:100]
    ]


def _notion_error(exc: Exception, what: str, scrub: Scrubber) -> ActionError:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:
        try:
            raise_for_status(status, what, scrub(getattr(exc, "code", "")))
        except ActionError as err:
            return err
    name = type(exc).__name__
    retryable = "Timeout" in name or any(c.__module__.startswith("httpx") for c in type(exc).__mro__)
    return scrub.error(exc, what, retryable=retryable)


class _Notion:
    def __init__(self, resolved: ResolvedConnection) -> None:
        from airflow_provider_wfo.connectors.hooks.notion import NotionHook

        self.scrub = resolved.scrub
        self.client = NotionHook(notion_conn_id=resolved.conn_id).get_conn()

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ActionError:
            raise
        except Exception as exc:
            raise _notion_error(exc, f"notion: {what}", self.scrub) from None


def _page_result(page: dict[str, Any], title: str, database_id: str) -> dict[str, Any]:
    page_id = str(page["id"])
    return {
        "id": page_id,
        "pageId": page_id,
        "url": page.get("url") or f"https://www.notion.so/{page_id.replace('-', '')}",
        "title": title,
        "databaseId": database_id,
    }


def _create_real(
    resolved: ResolvedConnection,
    database_id: str,
    title: str,
    props: dict[str, Any],
    content: str,
    ctx: ActionContext,
) -> dict[str, Any]:
    api = _Notion(resolved)
    database = api.call("retrieve database", api.client.databases.retrieve, database_id=database_id)
    sources = database.get("data_sources") or []
    if not sources:
        raise NonRetryableActionError(f"notion: database {database_id!r} has no data source")
    source_id = str(sources[0]["id"])
    schema = api.call("retrieve data source", api.client.data_sources.retrieve, data_source_id=source_id)
    types = {name: spec.get("type", "") for name, spec in (schema.get("properties") or {}).items()}
    key_prop = str(resolved.extra.get("idempotency_property") or DEFAULT_KEY_PROPERTY)
    digest = key_digest(ctx)
    if types.get(key_prop) == "rich_text":
        found = api.call(
            "idempotency query",
            api.client.data_sources.query,
            data_source_id=source_id,
            filter={"property": key_prop, "rich_text": {"equals": digest}},
            page_size=1,
        )
        if found.get("results"):
            ctx.log.info("notion: returning the page an earlier attempt created")
            return _page_result(found["results"][0], title, database_id)
    else:
        ctx.log.warning(
            "notion: the database has no rich_text property %r, so a retry cannot find an earlier page",
            key_prop,
        )
    title_prop = next((n for n, t in types.items() if t == "title"), None)
    if title_prop is None:
        raise NonRetryableActionError("notion: the database has no title property")
    properties: dict[str, Any] = {title_prop: convert("title", title)}
    if types.get(key_prop) == "rich_text":
        properties[key_prop] = convert("rich_text", digest)
    lower = {n.lower(): n for n in types}
    extra_lines = []
    for name, value in props.items():
        real = lower.get(str(name).lower())
        converted = convert(types[real], value) if real else None
        if real and converted is not None and real != title_prop:
            properties[real] = converted
        else:
            extra_lines.append(f"{name}: {_text(value)}")
    lines = [*extra_lines, *([line for line in content.splitlines()] if content else [])]
    page = api.call(
        "create page",
        api.client.pages.create,
        parent={"type": "data_source_id", "data_source_id": source_id},
        properties=properties,
        children=paragraphs(lines),
    )
    return _page_result(page, title, database_id)


def _inputs(params: dict[str, Any], resolved: ResolvedConnection) -> tuple[str, str, dict[str, Any], str]:
    title = req_str(params, "title", "name")
    database_id = opt_str(params, "databaseId", "database_id") or opt_str(
        resolved.extra, "default_database_id"
    )
    if not database_id:
        if not resolved.is_local:
            raise NonRetryableActionError("param 'databaseId' is required (or the extra default_database_id)")
        database_id = "default"
    props = params.get("properties") or {}
    if not isinstance(props, dict):
        raise NonRetryableActionError("param 'properties' must be an object")
    content = opt_str(params, "content", "description") or ""
    return safe_component(database_id, "databaseId"), title, dict(props), content


@register_builtin("notion", "create_page")
@register_builtin("notion", "create_task")
def create_page(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    database_id, title, props, content = _inputs(params, resolved)
    if resolved.is_local:
        assert resolved.workspace is not None

        def make() -> dict[str, Any]:
            page_id = str(uuid.uuid4())
            return {
                "id": page_id,
                "url": f"wfo-local://notion/pages/{page_id}",
                "databaseId": database_id,
                "title": title,
                "properties": jsonable(props),
                "content": content,
                "createdTime": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }

        return records.create(
            Workspace(resolved.workspace),
            "notion",
            "pages",
            make,
            lambda page: _page_result(page, title, database_id),
            ctx,
        )
    if resolved.conn_type != "wfo_notion":
        raise unsupported(resolved, "notion", "wfo_notion")
    return _create_real(resolved, database_id, title, props, content, ctx)


@register_builtin("notion", "archive_page")
def archive_page(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Move the page to the trash (the local backend removes its record)."""
    resolved = resolve(ctx)
    page_id = safe_component(req_str(params, "pageId", "id"), "pageId")
    if resolved.is_local:
        assert resolved.workspace is not None
        existed = records.delete(Workspace(resolved.workspace), "notion", "pages", page_id)
        return {"pageId": page_id, "archived": True, "alreadyArchived": not existed}
    if resolved.conn_type != "wfo_notion":
        raise unsupported(resolved, "notion", "wfo_notion")
    api = _Notion(resolved)
    try:
        api.client.pages.update(page_id=page_id, in_trash=True)
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            return {"pageId": page_id, "archived": True, "alreadyArchived": True}
        raise _notion_error(exc, "notion: archive page", api.scrub) from None
    return {"pageId": page_id, "archived": True, "alreadyArchived": False}
