"""Every connector: the built-in modules of this package, then the entry-point group.

A built-in connector is a module of ``airflow_provider_wfo.connectors`` with a module-level
``CONNECTOR``; adding a target is adding such a module (no list to edit). Another distribution adds
one with an entry point in the group ``airflow_provider_wfo.connectors``::

    [project.entry-points."airflow_provider_wfo.connectors"]
    jira = "my_package.jira:CONNECTOR"

Loading imports only the declarations (pydantic models), never an SDK, so ``wfo validate`` and the
loader can read the catalog at parse time.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import logging
import pkgutil
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType

from airflow_provider_wfo.connectors.spec import ENTRY_POINT_GROUP, ActionSpec, Connector

log = logging.getLogger(__name__)

_PACKAGE = "airflow_provider_wfo.connectors"


def _from(obj: object, where: str) -> Connector | None:
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "CONNECTOR", None)
    if isinstance(obj, Connector):
        return obj
    log.warning("wfo: %s is not a Connector; ignored", where)
    return None


def _builtin() -> list[Connector]:
    package = importlib.import_module(_PACKAGE)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        # Every module of the package is cheap to import (a rule for the whole package): helpers
        # without a CONNECTOR are imported and passed over.
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_PACKAGE}.{info.name}")
        connector = getattr(module, "CONNECTOR", None)
        if isinstance(connector, Connector):
            found.append(connector)
    return found


def _third_party(taken: set[str]) -> list[Connector]:
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            connector = _from(ep.load(), f"entry point {ep.name!r} ({ep.value})")
        except Exception as exc:  # a broken plugin must not take the built-ins down
            log.warning("wfo: connector entry point %r (%s) failed to load: %s", ep.name, ep.value, exc)
            continue
        if connector is None:
            continue
        clash = [n for n in connector.names if n in taken]
        if clash:
            log.warning(
                "wfo: connector %r from %s ignored: target %s already taken", ep.name, ep.value, clash
            )
            continue
        taken.update(connector.names)
        found.append(connector)
    return found


@lru_cache(maxsize=1)
def connectors() -> tuple[Connector, ...]:
    """Built-ins (module order), then third-party connectors (entry-point order)."""
    builtin = _builtin()
    taken = {n for c in builtin for n in c.names}
    return (*builtin, *_third_party(taken))


def reload() -> None:
    """Forget the cached catalog (tests that install an entry point call it)."""
    connectors.cache_clear()
    _third_party_installed.cache_clear()


#: The names of built-in connectors that are not their module's name (a test keeps this equal to the
#: modules): every other built-in name is found by importing that one module.
BUILTIN_ALIASES = {"gmail": "email", "integration": "http"}


@lru_cache(maxsize=1)
def _third_party_installed() -> bool:
    return bool(entry_points(group=ENTRY_POINT_GROUP))


def _builtin_named(module_name: str) -> Connector | None:
    if not module_name.isidentifier() or module_name.startswith("_"):
        return None
    if importlib.util.find_spec(f"{_PACKAGE}.{module_name}") is None:
        return None
    connector = getattr(importlib.import_module(f"{_PACKAGE}.{module_name}"), "CONNECTOR", None)
    return connector if isinstance(connector, Connector) else None


def find(target: str) -> Connector | None:
    """The connector named ``target``. Imports only that connector's module when it is a built-in
    (or when the name is nobody's and no third-party connector is installed): a task process that
    runs one step needs one declaration, not all of them (loading every connector module was a
    third of a Celery worker's samples, for ours and for a hand-written DAG alike)."""
    named = _builtin_named(BUILTIN_ALIASES.get(target, target))
    if named is not None and target in named.names:
        return named
    if not _third_party_installed():
        return None
    for connector in connectors():
        if target in connector.names:
            return connector
    return None


def find_action(target: str, action: str) -> tuple[Connector, ActionSpec] | None:
    connector = find(target)
    spec = connector.action(action) if connector else None
    return (connector, spec) if connector and spec else None


def canonical_target(target: str) -> str:
    connector = find(target)
    return connector.target if connector else target


def target_names() -> list[str]:
    return [n for c in connectors() for n in c.names]


def nearest(word: str, candidates: list[str]) -> str | None:
    return _nearest(word, tuple(candidates))


@functools.lru_cache(maxsize=1024)
def _nearest(word: str, candidates: tuple[str, ...]) -> str | None:
    # Cached: a folder of definitions calling one custom action asks the same question for every step
    # (difflib was a tenth of the parse time of 200 such definitions).
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def local_targets() -> list[str]:
    """Targets a fresh machine serves from the local workspace (the implicit ``wfo_<target>``)."""
    return [c.target for c in connectors() if c.local_default and "wfo_local" in c.backends]
