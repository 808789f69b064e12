"""The connection doctor: for each wfo connection, a cheap authenticated read, and what is missing.

Each connector names its check (``Connector.doctor``, ``"module:function"``); a check takes the
resolved connection and a :class:`Probe` and returns :class:`Finding` s: what works, and what is
missing (a scope, a role, a property, a shared drive), each with the fix. ``wfo connections check``
prints them and exits non-zero when something a workflow needs is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wfo.connectors.connections import ResolvedConnection


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""
    #: False: a recommendation (missing it does not break a workflow, only a retry or an undo path).
    needed: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "what": self.what, "fix": self.fix, "needed": self.needed}


@dataclass
class Probe:
    """What a check may be told besides the connection (ids a workflow uses)."""

    spreadsheet_id: str | None = None
    database_id: str | None = None
    notes: list[str] = field(default_factory=list)


Check = Callable[[ResolvedConnection, Probe], list[Finding]]


def ok(what: str) -> Finding:
    return Finding(True, what)


def missing(what: str, fix: str, *, needed: bool = True) -> Finding:
    return Finding(False, what, fix, needed)


def check_local(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    from airflow_provider_wfo.connectors.local.workspace import Workspace

    assert resolved.workspace is not None
    try:
        ws = Workspace(resolved.workspace)
        with ws.lock("doctor"):
            pass
    except OSError as exc:
        return [
            missing(
                f"workspace folder is not usable ({exc.strerror})",
                "set the extra workspace to a writable folder",
            )
        ]
    return [ok("local workspace folder is writable")]
