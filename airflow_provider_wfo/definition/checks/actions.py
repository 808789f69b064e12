"""Built-in steps: params checked against the action's params model, unknown targets and actions.

The models are the connectors' declarations, a layer above this package; they are looked up by
module name (:data:`CHECKER`, as the action registry looks up built-in actions) and import only
pydantic -- no SDK, no network, no Airflow. What is reported (errors: an unknown key with the
nearest name, a missing required key, a wrong type; a reference string is accepted for any field
except a literal-only one) is written there, in ``airflow_provider_wfo/connectors/params_check.py``.

An unknown target or action is a warning (:class:`UnknownActionWarning`), since it may be
registered from Python before the DAG is built; inside :func:`strict_actions` (``wfo validate
--strict``) it is an error.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from airflow_provider_wfo.definition.checks.context import Context

__all__ = [
    "CHECKER",
    "UnknownActionWarning",
    "action_catalog",
    "check_actions",
    "is_strict",
    "strict_actions",
]

CHECKER = "airflow_provider_wfo.connectors.params_check"
_strict: ContextVar[bool] = ContextVar("wfo_strict_actions", default=False)


class UnknownActionWarning(UserWarning):
    """A step names a target or action that no connector declares (it may be registered in Python)."""


@contextlib.contextmanager
def strict_actions(on: bool = True) -> Iterator[None]:
    """Unknown targets and actions are errors inside this block (``wfo validate --strict``)."""
    token = _strict.set(on)
    try:
        yield
    finally:
        _strict.reset(token)


def is_strict() -> bool:
    return _strict.get()


def action_catalog() -> Any:
    return importlib.import_module(CHECKER)


def check_actions(ctx: Context) -> None:
    action_catalog().check_actions(ctx)
