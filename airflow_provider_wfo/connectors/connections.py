"""Resolve a step's connection: ``ActionContext.conn_id`` -> Airflow connection -> backend.

The connection's ``conn_type`` picks the backend: ``wfo_local`` is the local workspace backend;
anything else is the real service. When the *default* connection ``wfo_<target>`` is not defined
at all, the local backend is used with the workspace ``$WFO_WORKSPACE`` (else
``$AIRFLOW_HOME/workspace``), so a fresh machine runs every workflow with no accounts. A ``connId``
named explicitly by a step must exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_wfo import redaction
from airflow_provider_wfo.actions.registry import ActionContext, NonRetryableActionError, canonical_target
from airflow_provider_wfo.connectors._common import Scrubber
from airflow_provider_wfo.connectors.spec import LOCAL_CONN_TYPE

__all__ = ["LOCAL_CONN_TYPE", "ResolvedConnection", "default_workspace", "resolve", "workspace_from"]

#: Connection extra keys whose values are secrets (besides the password).
SECRET_EXTRA_KEYS = ("token", "secret", "password", "key", "webhook", "credential", "auth")


@dataclass(frozen=True)
class ResolvedConnection:
    conn_id: str
    conn_type: str
    #: The Airflow connection; ``None`` for the implicit local default.
    conn: Any = field(default=None, repr=False)
    workspace: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    scrub: Scrubber = field(default_factory=Scrubber, repr=False)

    @property
    def is_local(self) -> bool:
        return self.conn_type == LOCAL_CONN_TYPE


def _airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow"))


def default_workspace() -> Path:
    explicit = os.environ.get("WFO_WORKSPACE")
    if explicit:
        return Path(explicit)
    return _airflow_home() / "workspace"


def workspace_from(raw: object) -> Path:
    """A connection's ``workspace`` extra; a relative one is relative to AIRFLOW_HOME, so every
    worker resolves it the same way whatever its current directory."""
    if not raw:
        return default_workspace()
    path = Path(str(raw)).expanduser()
    return path if path.is_absolute() else _airflow_home() / path


def _secrets_of(conn: Any, extra: dict[str, Any]) -> list[str]:
    found: list[str] = [conn.password or ""]
    if (conn.conn_type or "").lower() == "wfo_trello":
        found.append(conn.login or "")  # the Trello API key travels with the token
    for key, value in extra.items():
        if isinstance(value, str) and any(word in key.lower() for word in SECRET_EXTRA_KEYS):
            found.append(value)
    return found


def _mask(secrets: list[str], login: str | None) -> None:
    """Register every wire form of the secrets with Airflow's masker (its log redaction and our
    :func:`~airflow_provider_wfo.redaction.redact` then cover them, whoever writes them)."""
    for secret in secrets:
        redaction.register(secret, login)


def resolve(ctx: ActionContext) -> ResolvedConnection:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    defaults = {f"wfo_{ctx.target}", f"wfo_{canonical_target(ctx.target)}"}
    try:
        conn = BaseHook.get_connection(ctx.conn_id)
    except AirflowNotFoundException:
        if ctx.conn_id in defaults:
            return ResolvedConnection(ctx.conn_id, LOCAL_CONN_TYPE, workspace=default_workspace())
        raise NonRetryableActionError(
            f"connection {ctx.conn_id!r} is not defined (define it in Airflow, e.g. AIRFLOW_CONN_"
            f"{ctx.conn_id.upper()}, or drop connId to use the default wfo_{canonical_target(ctx.target)})"
        ) from None
    extra = dict(conn.extra_dejson or {})
    secrets = _secrets_of(conn, extra)
    _mask(secrets, conn.login)
    conn_type = (conn.conn_type or "").lower()
    workspace = None
    if conn_type == LOCAL_CONN_TYPE:
        workspace = workspace_from(extra.get("workspace"))
    return ResolvedConnection(
        ctx.conn_id, conn_type, conn, workspace, extra, Scrubber(secrets, login=conn.login)
    )
