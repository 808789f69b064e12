"""Running a declared action: params model -> connection -> backend -> result model.

One path for every built-in action, so each connector only declares models and writes backends:
the params are validated here (a bad param is a bad request: non-retryable, at once), the
connection's conn_type picks the backend class the connector declared, and the result is checked
against the action's result model before it becomes the step's XCom.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from airflow_provider_wfo.actions.registry import ActionContext, ActionError, NonRetryableActionError
from airflow_provider_wfo.connectors.connections import LOCAL_CONN_TYPE, ResolvedConnection, resolve
from airflow_provider_wfo.connectors.spec import ActionSpec, Connector, Params, Result, load_object

P = TypeVar("P", bound=Params)


class Backend:
    """A connector's backend for one connection; one instance per action call."""

    def __init__(self, resolved: ResolvedConnection, ctx: ActionContext) -> None:
        self.resolved = resolved
        self.ctx = ctx
        self.log = ctx.log
        self.scrub = resolved.scrub

    @property
    def extra(self) -> Mapping[str, Any]:
        return self.resolved.extra


class LocalBackend(Backend):
    """A backend that keeps its state in the workspace folder (conn_type ``wfo_local``)."""

    def __init__(self, resolved: ResolvedConnection, ctx: ActionContext) -> None:
        from airflow_provider_wfo.connectors.local.workspace import Workspace

        super().__init__(resolved, ctx)
        assert resolved.workspace is not None
        self.ws = Workspace(resolved.workspace)


def _describe(error: Mapping[str, Any], names: list[str]) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ()) if not str(p).startswith(("function-", "list[")))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc.split(".")[0]), names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(set(names)))})"
        return f"unknown param {loc[:80]!r}{hint}"
    if kind == "missing":
        return f"param {loc!r} is required"
    return f"param {loc!r}: {error.get('msg', 'invalid')}"


def _not_unicode(raw: Mapping[str, Any]) -> str | None:
    """The name of the first param holding a lone surrogate (JSON's ``"\\ud800"`` decodes to one):
    such a string cannot be written as UTF-8 anywhere, so it is a bad request, not a retry."""
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in raw.items()]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return name
        elif isinstance(value, Mapping):
            stack.extend((name, v) for v in [*value.keys(), *value.values()])
        elif isinstance(value, (list, tuple)):
            stack.extend((name, v) for v in value)
    return None


def parse_params(model: type[P], raw: Mapping[str, Any], what: str) -> P:
    """``raw`` checked against ``model``; a failure is a :class:`NonRetryableActionError`."""
    if not isinstance(raw, Mapping):
        raise NonRetryableActionError(f"{what}: params must be an object")
    bad = _not_unicode(raw)
    if bad is not None:
        raise NonRetryableActionError(
            f"{what}: param {bad[:80]!r} is not valid Unicode text (it holds a lone surrogate, "
            "such as the JSON escape \\ud800 without its pair)"
        )
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        names = list(model.accepted_names())
        problems = [_describe(e, names) for e in exc.errors(include_url=False, include_input=False)]
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise NonRetryableActionError(f"{what}: {shown}") from None


def _without_paths(exc: ActionError, resolved: ResolvedConnection) -> ActionError:
    """The error with the worker's workspace path replaced: a message is shown to people who
    trigger runs, and must not tell them how the worker's disk is laid out."""
    if resolved.workspace is None:
        return exc
    text = str(exc)
    for root in {str(resolved.workspace), str(Path(resolved.workspace).resolve())}:
        text = text.replace(root, "<workspace>")
    if text == str(exc):
        return exc
    return type(exc)(text)


def backend_class(connector: Connector, resolved: ResolvedConnection) -> type[Backend]:
    path = connector.backends.get(resolved.conn_type)
    if path is None:
        supported = " or ".join(t for t in connector.backends if t != LOCAL_CONN_TYPE) or "none"
        raise NonRetryableActionError(
            f"connection {resolved.conn_id!r} has conn_type {resolved.conn_type!r}, which target "
            f"{connector.target!r} does not support (use {supported} or {LOCAL_CONN_TYPE})"
        )
    cls = load_object(path)
    assert isinstance(cls, type) and issubclass(cls, Backend), path
    return cls


def run_action(
    connector: Connector, spec: ActionSpec, raw: Mapping[str, Any], ctx: ActionContext
) -> dict[str, Any]:
    what = f"{connector.target}.{spec.name}"
    params = parse_params(spec.params, raw, what)
    resolved = resolve(ctx)
    backend = backend_class(connector, resolved)(resolved, ctx)
    try:
        result = getattr(backend, spec.method_name)(params)
    except ActionError as exc:
        raise _without_paths(exc, resolved) from None
    except OSError as exc:
        # A file system error of the local backend: its message names paths; say what failed.
        retryable = not isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError))
        message = f"{what}: {type(exc).__name__} ({exc.strerror or 'file system error'})"
        raise (ActionError(message) if retryable else NonRetryableActionError(message)) from None
    if isinstance(result, Mapping):
        result = spec.result.model_validate(dict(result))
    if not isinstance(result, Result):
        raise TypeError(f"{what}: the backend returned {type(result).__name__}, not {spec.result.__name__}")
    return result.to_json()


class BuiltinAction:
    """What the registry hands the operators for a declared action: ``fn(params, ctx) -> dict``."""

    def __init__(self, connector: Connector, spec: ActionSpec) -> None:
        self.connector = connector
        self.spec = spec

    def __call__(self, params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        return run_action(self.connector, self.spec, params, ctx)

    def __repr__(self) -> str:
        return f"<action {self.connector.target}.{self.spec.name}>"
