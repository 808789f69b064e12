"""Run conf (the initial context) under the same limits as a definition.

Run conf comes from ``wfo run --conf``, ``execute_workflow(defn, initial_context)``, the REST API and
the trigger form. It is user data that reaches every step's params, so it gets the loader's rules:
JSON only (no ``NaN`` or ``Infinity``, which would reach an API as ``null``), nested at most
:data:`~.rules.MAX_NESTING` levels, and at most :data:`~.rules.MAX_CONF_BYTES` as JSON text. Every
problem is one :class:`ConfError` with a message that says what to change; nothing raises a bare
``RecursionError`` or ``MemoryError``.

A workflow that declares ``params`` takes only those keys (:func:`check_conf_keys`): a key it does not
declare is almost always a typo (``custmerId``), which would otherwise run with the default.

``wfo run`` and ``execute_workflow`` check before the run starts; a run triggered on Airflow is
checked by its first task (``operators/gating.check_run_conf``), which fails it without retries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_wfo.definition.errors import suggestion
from airflow_provider_wfo.definition.rules import MAX_CONF_BYTES, MAX_NESTING

__all__ = ["ConfError", "check_conf", "check_conf_keys", "parse_conf_text"]


class ConfError(ValueError):
    """Run conf that breaks a rule; the message names the place (``conf.orders[3]``) and the rule."""


def _where(path: tuple[str | int, ...]) -> str:
    out = "conf"
    for part in path[:8]:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part[:40]}" + ("..." if len(part) > 40 else "")
    return out + (".…" if len(path) > 8 else "")


def _no_constant(name: str) -> Any:
    raise ConfError(f"{name} is not a JSON number; send a number, or a string to mean the text")


def parse_conf_text(text: str, what: str = "the run conf") -> dict[str, Any]:
    """JSON text to a conf object, under the limits (size first, before anything is parsed)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONF_BYTES:
        raise ConfError(f"{what} is {size:,} bytes; run conf may hold at most {MAX_CONF_BYTES:,} bytes")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ConfError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfError(f"{what} is nested too deeply (at most {MAX_NESTING} levels)") from None
    except ConfError as exc:
        raise ConfError(f"{what}: {exc}") from None
    except ValueError as exc:  # integers beyond Python's digit limit
        raise ConfError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfError(f'{what} must be a JSON object, e.g. {{"orderId": "ORD-1"}}')
    check_conf(data, what)
    return data


def check_conf(conf: Any, what: str = "the run conf") -> None:
    """Raise :class:`ConfError` unless ``conf`` is a JSON object within the limits. Iterative."""
    if conf is None:
        return
    if not isinstance(conf, Mapping):
        raise ConfError(f"{what} must be a JSON object, got {type(conf).__name__}")
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(conf, ())]
    size = 0
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            size += len(value) + 2
        elif isinstance(value, bool) or value is None or isinstance(value, int):
            size += 5
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ConfError(f"{what}: {_where(path)} is {value}, which is not a JSON number")
            size += 8
        elif isinstance(value, (Mapping, list, tuple)):
            if len(path) >= MAX_NESTING:
                raise ConfError(
                    f"{what} is nested too deeply at {_where(path)} (at most {MAX_NESTING} levels)"
                )
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise ConfError(f"{what}: {_where(path)} has a key that is not a string: {key!r:.60}")
                    size += len(key) + 4
                    stack.append((item, (*path, key)))
            else:
                size += 2 + len(value)
                stack.extend((item, (*path, i)) for i, item in enumerate(value))
        else:
            raise ConfError(f"{what}: {_where(path)} is not JSON data ({type(value).__name__})")
        if size > MAX_CONF_BYTES:
            raise ConfError(f"{what} is larger than {MAX_CONF_BYTES:,} bytes as JSON; send less data")


def check_conf_keys(
    conf: Mapping[str, Any] | None, declared: Iterable[str], what: str = "the run conf"
) -> None:
    """Raise :class:`ConfError` for a key of ``conf`` that is not a declared param (none declared:
    every key is fine, since the workflow cannot say what it expects)."""
    names = list(declared)
    if not names or not conf:
        return
    unknown = [key for key in conf if key not in names]
    if not unknown:
        return
    first = unknown[0]
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    shown = ", ".join(sorted(names)[:20]) + (", ..." if len(names) > 20 else "")
    raise ConfError(
        f"{what}: {first[:60]!r}{more} is not a param of this workflow{suggestion(first, names)} "
        f"(its params: {shown})"
    )
