"""notion: ``create_task`` / ``create_page`` in a database, and ``archive_page`` (its rollback).

Params: ``databaseId`` (or the connection extra ``default_database_id``), ``title``, ``properties``
(name -> plain value, e.g. the seed's Date, Time, Duration, Attendees, Type; each is converted to
the database's property type: title, rich_text, number, select, status, multi_select, date,
checkbox, url, email, phone_number; values for other or unknown properties are written into the
page body as "Name: value" lines), ``content`` (page body text).

Values are checked against the property type: a ``select`` or ``status`` takes one option
(a list of several, or a comma -- which Notion does not allow in an option name -- is refused), a
``date`` takes ISO 8601 (``2025-01-15``, ``2025-01-15T10:00:00+01:00``, or ``{start, end}``);
anything else is refused before the page is created.

Real backend: the official ``notion-client`` (API version 2025-09-03: a database holds data
sources; pages are created under its first data source). Idempotency: if the data source has a
rich_text property named ``WFO Key`` (extra ``idempotency_property``), the page stores the digest
of the step's key there and an attempt first queries for it. Without that property a retried step
may create a second page (logged as a warning): add the property to the database to prevent it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timezone
from typing import Any

from airflow_provider_wfo.connectors._common import (
    ActionError,
    NonRetryableActionError,
    Scrubber,
    as_list,
    jsonable,
    key_digest,
    raise_for_status,
)
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
    param,
    required,
)

CONNECTION = ConnectionType(
    conn_type="wfo_notion",
    hook_class="airflow_provider_wfo.connectors.hooks.notion.NotionHook",
    hook_name="Notion (wfo)",
    hidden_fields=("schema", "port", "login"),
    relabeling={"password": "Integration token", "host": "API base URL (optional)"},
    placeholders={
        "host": "https://api.notion.com",
        "extra": '{"default_database_id": "...", "idempotency_property": "WFO Key"}',
    },
    fields={
        "default_database_id": ConnField("Default database id", "Used when a step gives no databaseId."),
        "idempotency_property": ConnField(
            "Idempotency property",
            "A rich_text property of the database that stores the step key digest, so a retried step "
            "finds its page (default 'WFO Key').",
            default="WFO Key",
        ),
        "notion_version": ConnField("Notion-Version"),
        "timeout_ms": ConnField("Timeout (ms)", type="integer", default=60000),
    },
)


class CreatePageParams(Params):
    title: Text = required("title", "name", description="Page title.", max_length=2000)
    databaseId: Text | None = param(
        "databaseId",
        "database_id",
        description="Database id (default: the connection extra default_database_id).",
        max_length=200,
    )
    properties: dict[str, Any] | None = param(
        "properties", description="{name: plain value}, converted to the database's property types."
    )
    content: Text | None = param("content", "description", description="Page body text.")


class PageResult(Result):
    id: str
    pageId: str
    url: str
    title: str
    databaseId: str


class ArchivePageParams(Params):
    pageId: Text = required("pageId", "id", description="The page id create_task returned.", max_length=200)


class ArchivePageResult(Result):
    pageId: str
    archived: bool
    alreadyArchived: bool


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


def _one_option(prop_type: str, value: Any) -> str:
    items = (
        [v for v in value if v is not None and str(v).strip()]
        if isinstance(value, (list, tuple))
        else [value]
    )
    if len(items) != 1:
        raise NonRetryableActionError(
            f"notion: a {prop_type} property takes one option, got {len(items)} "
            "(use a multi_select property for several)"
        )
    name = _text(items[0]).strip()
    if "," in name:
        raise NonRetryableActionError(
            f"notion: {prop_type} option {name[:100]!r} has a comma, which Notion does not allow"
        )
    if len(name) > 100:
        raise NonRetryableActionError(f"notion: {prop_type} option names are at most 100 characters")
    return name


def _iso(value: Any, what: str) -> str:
    text = _text(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NonRetryableActionError(
            f"notion: {what} {text[:40]!r} is not an ISO 8601 date (write 2025-01-15 or 2025-01-15T10:00:00Z)"
        ) from None
    return parsed.isoformat()


def _date(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        unknown = set(value) - {"start", "end", "time_zone"}
        if unknown or "start" not in value:
            raise NonRetryableActionError("notion: a date object is {start, end?, time_zone?}")
        out: dict[str, Any] = {"start": _iso(value["start"], "date start")}
        if value.get("end"):
            out["end"] = _iso(value["end"], "date end")
        if value.get("time_zone"):
            out["time_zone"] = str(value["time_zone"])
        return out
    return {"start": _iso(value, "date")}


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
        return {prop_type: {"name": _one_option(prop_type, value)}}
    if prop_type == "multi_select":
        return {"multi_select": [{"name": v[:100]} for v in as_list(value, "multi_select")]}
    if prop_type == "date":
        return {"date": _date(value)}
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


class NotionBackend(Backend):
    def inputs(self, params: CreatePageParams, local: bool) -> tuple[str, dict[str, Any], str]:
        database_id = params.databaseId or str(self.extra.get("default_database_id") or "")
        if not database_id:
            if not local:
                raise NonRetryableActionError(
                    "param 'databaseId' is required (or the extra default_database_id)"
                )
            database_id = "default"
        return safe_component(database_id, "databaseId"), dict(params.properties or {}), params.content or ""


class LocalNotion(NotionBackend, LocalBackend):
    def create_task(self, params: CreatePageParams) -> PageResult:
        from airflow_provider_wfo.connectors.local import records

        database_id, props, content = self.inputs(params, local=True)
        title = params.title

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

        made = records.create(
            self.ws,
            "notion",
            "pages",
            make,
            lambda page: page_result(page, title, database_id).to_json(),
            self.ctx,
        )
        return PageResult.model_validate(made)

    def archive_page(self, params: ArchivePageParams) -> ArchivePageResult:
        from airflow_provider_wfo.connectors.local import records

        page_id = safe_component(params.pageId, "pageId")
        existed = records.delete(self.ws, "notion", "pages", page_id)
        return ArchivePageResult(pageId=page_id, archived=True, alreadyArchived=not existed)


def notion_error(exc: Exception, what: str, scrub: Scrubber) -> ActionError:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:
        try:
            raise_for_status(status, what, scrub(getattr(exc, "code", "")))
        except ActionError as err:
            return err
    name = type(exc).__name__
    retryable = "Timeout" in name or any(c.__module__.startswith("httpx") for c in type(exc).__mro__)
    return scrub.error(exc, what, retryable=retryable)


def page_result(page: dict[str, Any], title: str, database_id: str) -> PageResult:
    page_id = str(page["id"])
    return PageResult(
        id=page_id,
        pageId=page_id,
        url=page.get("url") or f"https://www.notion.so/{page_id.replace('-', '')}",
        title=title,
        databaseId=database_id,
    )


class NotionApi(NotionBackend):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from airflow_provider_wfo.connectors.hooks.notion import NotionHook

        self.client = NotionHook(notion_conn_id=self.resolved.conn_id).client

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ActionError:
            raise
        except Exception as exc:
            raise notion_error(exc, f"notion: {what}", self.scrub) from None

    def create_task(self, params: CreatePageParams) -> PageResult:
        database_id, props, content = self.inputs(params, local=False)
        title = params.title
        database = self.call("retrieve database", self.client.databases.retrieve, database_id=database_id)
        sources = database.get("data_sources") or []
        if not sources:
            raise NonRetryableActionError(f"notion: database {database_id!r} has no data source")
        source_id = str(sources[0]["id"])
        schema = self.call(
            "retrieve data source", self.client.data_sources.retrieve, data_source_id=source_id
        )
        types = {name: spec.get("type", "") for name, spec in (schema.get("properties") or {}).items()}
        key_prop = str(self.extra.get("idempotency_property") or DEFAULT_KEY_PROPERTY)
        digest = key_digest(self.ctx)
        if types.get(key_prop) == "rich_text":
            found = self.call(
                "idempotency query",
                self.client.data_sources.query,
                data_source_id=source_id,
                filter={"property": key_prop, "rich_text": {"equals": digest}},
                page_size=1,
            )
            if found.get("results"):
                self.log.info("notion: returning the page an earlier attempt created")
                return page_result(found["results"][0], title, database_id)
        else:
            self.log.warning(
                "notion: the database has no rich_text property %r, so a retry cannot find an earlier page "
                "(add it; wfo connections check reports it)",
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
        lines = [*extra_lines, *(content.splitlines() if content else [])]
        page = self.call(
            "create page",
            self.client.pages.create,
            parent={"type": "data_source_id", "data_source_id": source_id},
            properties=properties,
            children=paragraphs(lines),
        )
        return page_result(page, title, database_id)

    def archive_page(self, params: ArchivePageParams) -> ArchivePageResult:
        """Move the page to the trash. Already in the trash (404, or 400 on an archived page, which
        a retried undo meets) is done: the page is read back to tell that apart from a real 400."""
        page_id = safe_component(params.pageId, "pageId")
        try:
            self.client.pages.update(page_id=page_id, in_trash=True)
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status == 404:
                return ArchivePageResult(pageId=page_id, archived=True, alreadyArchived=True)
            if status == 400:
                page = self.call("read page", self.client.pages.retrieve, page_id=page_id)
                if page.get("in_trash") or page.get("archived"):
                    return ArchivePageResult(pageId=page_id, archived=True, alreadyArchived=True)
            raise notion_error(exc, "notion: archive page", self.scrub) from None
        return ArchivePageResult(pageId=page_id, archived=True, alreadyArchived=False)


CONNECTOR = Connector(
    target="notion",
    service="Notion",
    summary="Creates pages in a database (values converted to its property types); "
    "undo moves them to the trash.",
    actions=(
        ActionSpec(
            "create_task",
            CreatePageParams,
            PageResult,
            "Create a page in a database.",
            rollback='archive_page {pageId: "$step.id"}',
            aliases=("create_page",),
        ),
        ActionSpec("archive_page", ArchivePageParams, ArchivePageResult, "Move a page to the trash."),
    ),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.notion:LocalNotion",
        CONNECTION.conn_type: "airflow_provider_wfo.connectors.notion:NotionApi",
    },
    connection_types=(CONNECTION,),
    doctor="airflow_provider_wfo.connectors.doctor.services:check_notion",
    real_backend="`notion-client` (API 2025-09-03)",
)
