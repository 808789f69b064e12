"""The action registry: ``(target, action)`` to a Python callable.

Built-in actions are the ones the connectors declare (:mod:`airflow_provider_wfo.connectors.catalog`);
their SDKs are imported only when an action runs, so parsing stays cheap and the Google, Slack and
Notion extras stay optional. User actions registered with :func:`register_action` take precedence.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload

log = logging.getLogger(__name__)


class ActionError(Exception):
    """An action failed; Airflow retries it as the step's ``retryCount`` allows."""


class NonRetryableActionError(ActionError):
    """A failure that another attempt cannot fix (bad request, auth): fails the step at once."""


class UnknownActionError(NonRetryableActionError):
    pass


@dataclass(frozen=True)
class ActionContext:
    """What an action knows about the attempt that calls it."""

    target: str
    action: str
    conn_id: str
    #: ``{dag_id}:{run_id}:{step_id}``, the same on every retry of one step in one run;
    #: compensations append ``:rollback``. Connectors use it to find what an earlier attempt made.
    idempotency_key: str
    dag_id: str = ""
    run_id: str = ""
    step_id: str = ""
    attempt: int = 1
    is_rollback: bool = False
    log: logging.Logger = field(default=log, repr=False, compare=False)


class Action(Protocol):
    def __call__(self, params: dict[str, Any], ctx: ActionContext) -> Mapping[str, Any] | None: ...


A = TypeVar("A", bound=Action)

_user_actions: dict[tuple[str, str], Action] = {}


#: The built-in actions live in the connectors, a layer above this one: they are looked up by
#: module name when an action is first asked for (never at parse time), as plugins are.
CATALOG_MODULE = "airflow_provider_wfo.connectors.catalog"
RUNTIME_MODULE = "airflow_provider_wfo.connectors.runtime"


def _catalog() -> Any:
    return importlib.import_module(CATALOG_MODULE)


def canonical_target(target: str) -> str:
    """The connector's own name for ``target`` (``gmail`` -> ``email``); unknown names unchanged."""
    return str(_catalog().canonical_target(target))


@overload
def register_action(target: str, action: str) -> Callable[[A], A]: ...
@overload
def register_action(target: str, action: str, fn: A) -> A: ...
def register_action(target: str, action: str, fn: A | None = None) -> A | Callable[[A], A]:
    """Register ``fn(params, ctx) -> dict`` as ``action`` on ``target``; usable as a decorator.

    Register in a module that the DAG file imports (or in a plugin), so that every worker that
    runs the step has it: a worker re-parses the DAG file before it runs a task.
    """

    def add(func: A) -> A:
        _user_actions[(target, action)] = func
        return func

    return add(fn) if fn is not None else add


def unregister_action(target: str, action: str) -> None:
    _user_actions.pop((target, action), None)


def get_action(target: str, action: str) -> Action:
    user = _user_actions.get((target, action))
    if user is not None:
        return user
    catalog = _catalog()
    found = catalog.find_action(target, action)
    if found is not None:
        action_fn: Action = importlib.import_module(RUNTIME_MODULE).BuiltinAction(*found)
        return action_fn
    connector = catalog.find(target)
    canonical = connector.target if connector else target
    known = sorted(
        {
            *(connector.action_names() if connector else []),
            *(a for t, a in _user_actions if canonical_target(t) == canonical),
        }
    )
    if known:
        close = catalog.nearest(action, known)
        hint = (
            f"did you mean {close!r}? " if close else ""
        ) + f"known actions on {target!r}: {', '.join(known)}"
    else:
        close = catalog.nearest(target, catalog.target_names())
        hint = f"{target!r} has no actions" + (f"; did you mean target {close!r}?" if close else "")
    raise UnknownActionError(
        f"no action {action!r} on target {target!r} ({hint}); "
        "register one with airflow_provider_wfo.register_action(target, action, fn)"
    )
