"""What a connector declares: its target, actions (params and result models), backends and
connection types. Everything else -- the action registry, ``get_provider_info()``, the local
default connections, the docs table, the JSON Schema of params and the validate-time params check
-- is derived from these declarations.

This module and the declarations built on it import only pydantic: ``wfo validate`` and DAG
parsing read them, and they must never pull in a Google, Slack or Notion SDK. Backends are named
by dotted path and imported only when an action runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.fields import FieldInfo

#: The connection type of the local (workspace folder) backends.
LOCAL_CONN_TYPE = "wfo_local"
#: Entry-point group through which other distributions add connectors: each entry point loads a
#: :class:`Connector` (or a module with a ``CONNECTOR`` attribute).
ENTRY_POINT_GROUP = "airflow_provider_wfo.connectors"
#: A bound on any one text param: a megabyte is far past every API's field limits.
MAX_TEXT = 1_000_000


def _text(value: Any) -> Any:
    # Numbers become text (a conf value 42 for a name is fine); objects and lists are refused
    # by the str type that follows, with pydantic's own message.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _text_list(value: Any) -> Any:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [_text(v).strip() if isinstance(_text(v), str) else v for v in value if v is not None]
    return value


#: A string param; numbers are accepted and written as text.
Text = Annotated[str, BeforeValidator(_text), Field(max_length=MAX_TEXT)]
#: A list of strings, from a list or from one comma-separated string.
TextList = Annotated[list[Annotated[str, Field(max_length=MAX_TEXT)]], BeforeValidator(_text_list)]


def param(*names: str, default: Any = None, description: str = "", **kwargs: Any) -> Any:
    """A params field known by ``names[0]`` and accepted under every name (the seed's aliases)."""
    choices = AliasChoices(*names) if len(names) > 1 else None
    return Field(default, alias=names[0], validation_alias=choices, description=description, **kwargs)


def required(*names: str, description: str = "", **kwargs: Any) -> Any:
    choices = AliasChoices(*names) if len(names) > 1 else None
    return Field(alias=names[0], validation_alias=choices, description=description, **kwargs)


def literal_only(info: FieldInfo) -> bool:
    """A field whose value must be written in the definition, never a reference: an opt-in such as
    ``valueInputOption: USER_ENTERED`` must not be switchable by whoever triggers the run."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("wfoLiteral"))


class Params(BaseModel):
    """Base of every action's params: unknown keys are refused (a typo must not be ignored)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, defer_build=True, str_strip_whitespace=False
    )

    @classmethod
    def accepted_names(cls) -> dict[str, str]:
        """Every key the params accept -> the field's main name."""
        out: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            main = info.alias or name
            choices = info.validation_alias
            names = (
                [c for c in choices.choices if isinstance(c, str)]
                if isinstance(choices, AliasChoices)
                else []
            )
            for key in [main, *names]:
                out[key] = main
        return out


class Result(BaseModel):
    """Base of every action's result. Dumped with ``exclude_unset``: a backend sets what it knows."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    params: type[Params]
    result: type[Result]
    summary: str
    #: The rollback to declare for it, as the docs show it (``None``: nothing to undo).
    rollback: str | None = None
    #: Other names of the same action (the seed's ``create_card`` for ``create_task``).
    aliases: tuple[str, ...] = ()
    #: The backend method that performs it; default: the action name.
    method: str = ""

    @property
    def method_name(self) -> str:
        return self.method or self.name

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class ConnField:
    """One extra field of a connection form (Airflow 3.2+ ``conn-fields``)."""

    label: str
    description: str = ""
    type: str = "string"
    default: Any = None

    def to_provider_info(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": [self.type, "null"]}
        if self.default is not None:
            schema["default"] = self.default
        out: dict[str, Any] = {"label": self.label, "schema": schema}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class ConnectionType:
    """A connection type this provider registers. The hook class reads its ``conn_type``,
    ``hook_name`` and form from here, so the type is declared once."""

    conn_type: str
    hook_class: str
    hook_name: str
    hidden_fields: tuple[str, ...] = ()
    relabeling: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, ConnField] = field(default_factory=dict)

    def ui_field_behaviour(self) -> dict[str, Any]:
        return {
            "hidden_fields": list(self.hidden_fields),
            "relabeling": dict(self.relabeling),
            "placeholders": dict(self.placeholders),
        }

    def to_provider_info(self) -> dict[str, Any]:
        return {
            "hook-class-name": self.hook_class,
            "hook-name": self.hook_name,
            "connection-type": self.conn_type,
            "ui-field-behaviour": {
                "hidden-fields": list(self.hidden_fields),
                "relabeling": dict(self.relabeling),
                "placeholders": dict(self.placeholders),
            },
            "conn-fields": {name: f.to_provider_info() for name, f in self.fields.items()},
        }


@dataclass(frozen=True)
class Connector:
    """One target: its actions, and which backend serves which connection type."""

    target: str
    #: The service, as the docs name it ("Google Drive").
    service: str
    summary: str
    actions: tuple[ActionSpec, ...]
    #: conn_type -> ``"module:Class"`` of the backend (constructed with the resolved connection).
    backends: Mapping[str, str]
    #: Other target names for this connector (the seed's ``gmail`` for ``email``).
    aliases: tuple[str, ...] = ()
    #: Connection types this provider registers for it (others belong to their own providers).
    connection_types: tuple[ConnectionType, ...] = ()
    #: ``"module:function"`` of its connection check (``wfo connections check``), if any.
    doctor: str | None = None
    #: What the docs say about the real backend (library, API).
    real_backend: str = ""
    #: Whether a fresh machine gets an implicit local connection ``wfo_<target>``.
    local_default: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return (self.target, *self.aliases)

    def action(self, name: str) -> ActionSpec | None:
        for spec in self.actions:
            if name in spec.names:
                return spec
        return None

    def action_names(self) -> list[str]:
        return [n for spec in self.actions for n in spec.names]

    @property
    def real_conn_types(self) -> list[str]:
        return [t for t in self.backends if t != LOCAL_CONN_TYPE]


def load_object(path: str) -> Any:
    """``"package.module:attr"`` -> the attribute (imports the module)."""
    module, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


Check = Callable[..., Any]
