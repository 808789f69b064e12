"""The context-passing language: ``$name``, ``$name.path.to.field``, ``${name.path}`` and ``$$``.

``name`` is a step id (that step's result) or an initial-context key (run conf). The resolver
walks JSON data only -- dict keys and list indexes -- so nothing in a value is ever evaluated,
rendered or looked up as an attribute: ``{{ 7*7 }}`` or ``__class__`` in run conf stays inert text.

Rules, in the README's words:

* A string that is exactly one reference keeps the JSON type of the value it points at.
* A reference inside a longer string is interpolated (non-strings as compact JSON).
* Traversal stops where the value is no longer an object or array; the rest is literal text,
  so ``Order-$orderId.pdf`` gives ``Order-ORD-2025-001.pdf``.
* A missing key inside an object, or an index outside an array, is an error naming the fields.
* Step ids contain hyphens. A bare name is the longest hyphen-bounded prefix that is a known name
  (``$step-1-done`` with a known ``step-1`` reads ``step-1`` then the text ``-done``);
  ``${...}`` delimits explicitly.
* Inside braces a closed set of pure filters may follow: ``${attendees|join}`` (a list as
  ``a, b, c``), ``${severity|lower}``, ``|upper``. Nothing else can be called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

#: Deeper params are refused rather than walked: bounded time and no recursion blow-up.
MAX_DEPTH = 64

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_SEGMENT = r"[A-Za-z0-9_-]+"
_BARE = re.compile(rf"\$(?P<name>{_NAME})(?P<path>(?:\.{_SEGMENT})*)")
_BRACED = re.compile(rf"\$\{{(?P<name>{_NAME})(?P<path>(?:\.{_SEGMENT})*)(?P<filters>(?:\|[a-z]+)*)\}}")


def _join(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value)
    return value


def _case(method: str) -> Callable[[Any], Any]:
    return lambda value: getattr(value, method)() if isinstance(value, str) else value


#: A closed set of pure filters, braces only: ``${attendees|join}``, ``${severity|lower}``.
FILTERS: dict[str, Callable[[Any], Any]] = {"join": _join, "lower": _case("lower"), "upper": _case("upper")}


class ReferenceError(ValueError):
    """A reference that cannot be parsed or resolved. ``where`` is a JSON path such as params.fields[0]."""

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Reference:
    name: str
    path: tuple[str, ...]
    text: str  # the reference as written, for messages
    braced: bool = False
    filters: tuple[str, ...] = ()


Piece = str | Reference


class _Skipped:
    """The scope value of a step that did not run because it was skipped (``when`` false, say)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIPPED_RESULT"


#: Put in a scope for a step that was skipped: ``$step`` and ``$step.any.path`` then give null
#: (a *completed* step's missing field stays an error), so ``{"!!": "$step"}`` reads "did it run".
SKIPPED_RESULT: Final = _Skipped()


def _split_name(raw: str, known: Container[str] | None) -> tuple[str, str]:
    """Split a greedy bare name into (name, literal rest) using the known names."""
    if known is not None and raw in known:
        return raw, ""
    stripped = raw.rstrip("-")
    if known is not None and stripped not in known:
        cut = len(stripped)
        while (cut := stripped.rfind("-", 0, cut)) > 0:
            if stripped[:cut] in known:
                return stripped[:cut], raw[cut:]
    return stripped, raw[len(stripped) :]


def parse(text: str, known: Container[str] | None = None) -> list[Piece]:
    """Split a string into literal text and references. ``known`` guides hyphenated names."""
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            literal.append(text[i:])
            break
        literal.append(text[i:j])
        if text.startswith("$$", j):
            literal.append("$")
            i = j + 2
            continue
        if text.startswith("${", j):
            match = _BRACED.match(text, j)
            if match is None:
                raise ReferenceError(
                    f"malformed reference {text[j : j + 40]!r}: write ${{name}} or ${{name.field}}, "
                    "or $$ for a literal dollar"
                )
            filters = tuple(match["filters"].split("|")[1:])
            unknown = [f for f in filters if f not in FILTERS]
            if unknown:
                raise ReferenceError(
                    f"unknown filter {unknown[0]!r} in {match.group(0)!r}; filters: {', '.join(FILTERS)}"
                )
            ref = Reference(
                match["name"], _segments(match["path"]), match.group(0), braced=True, filters=filters
            )
            i = match.end()
        else:
            match = _BARE.match(text, j)
            if match is None:  # "$5", "$ ", trailing "$": a dollar sign, not a reference
                literal.append("$")
                i = j + 1
                continue
            name, rest = _split_name(match["name"], known)
            if rest:
                ref = Reference(name, (), "$" + name)
                i = j + 1 + len(name)
            else:
                ref = Reference(name, _segments(match["path"]), match.group(0))
                i = match.end()
        joined = "".join(literal)
        if joined:
            pieces.append(joined)
        literal = []
        pieces.append(ref)
    tail = "".join(literal)
    if tail:
        pieces.append(tail)
    return pieces


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path[1:].split(".")) if path else ()


def iter_strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value with its JSON path. Iterative, depth-bounded."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ReferenceError(f"nested deeper than {MAX_DEPTH} levels; flatten the params", path)
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key in reversed(list(node)):
                stack.append((node[key], f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                stack.append((node[index], f"{path}[{index}]", depth + 1))


def find_references(
    value: Any, known: Container[str] | None = None, where: str = ""
) -> Iterator[tuple[str, Reference]]:
    """Every reference inside a JSON value, with the JSON path of the string holding it."""
    for path, text in iter_strings(value, where):
        if "$" not in text:
            continue
        try:
            pieces = parse(text, known)
        except ReferenceError as exc:
            raise ReferenceError(exc.message, path) from None
        for piece in pieces:
            if isinstance(piece, Reference):
                yield path, piece


def _lookup(ref: Reference, scope: Mapping[str, Any], where: str) -> tuple[Any, tuple[str, ...]]:
    """The value a reference points at, and the path segments left over as literal text."""
    if ref.name not in scope:
        known = ", ".join(sorted(scope)) or "none"
        raise ReferenceError(
            f"unknown reference {ref.text!r}: {ref.name!r} is neither a completed step nor a "
            f"run-conf key (known: {known}); write $$ for a literal dollar",
            where,
        )
    value = scope[ref.name]
    if value is SKIPPED_RESULT:
        return None, ()
    walked = [ref.name]
    for index, segment in enumerate(ref.path):
        if isinstance(value, dict):
            if segment not in value:
                fields = ", ".join(sorted(map(str, value))) or "no fields"
                raise ReferenceError(
                    f"{ref.text!r}: {'.'.join(walked)!r} has no field {segment!r} (it has: {fields})",
                    where,
                )
            value = value[segment]
        elif isinstance(value, list):
            if not segment.isdigit() or int(segment) >= len(value):
                raise ReferenceError(
                    f"{ref.text!r}: {'.'.join(walked)!r} is a list of {len(value)} items; "
                    f"{segment!r} is not an index in it",
                    where,
                )
            value = value[int(segment)]
        else:
            if ref.braced:
                raise ReferenceError(
                    f"{ref.text!r}: {'.'.join(walked)!r} is a {type(value).__name__}, it has no field "
                    f"{segment!r}",
                    where,
                )
            return value, ref.path[index:]
        walked.append(segment)
    for name in ref.filters:
        value = FILTERS[name](value)
    return value, ()


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)


def resolve_string(text: str, scope: Mapping[str, Any], where: str = "") -> Any:
    if "$" not in text:
        return text
    try:
        pieces = parse(text, scope)
    except ReferenceError as exc:
        raise ReferenceError(exc.message, where) from None
    if len(pieces) == 1 and isinstance(pieces[0], Reference):
        value, rest = _lookup(pieces[0], scope, where)
        if not rest:
            return value
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value, rest = _lookup(piece, scope, where)
        out.append(_as_text(value))
        if rest:
            out.append("." + ".".join(rest))
    return "".join(out)


def resolve(value: Any, scope: Mapping[str, Any], where: str = "params") -> Any:
    """A copy of ``value`` with every reference replaced from ``scope``. Pure and depth-bounded."""
    return _map_strings(value, lambda text, path: resolve_string(text, scope, path), where, 0)


def _map_strings(value: Any, fn: Callable[[str, str], Any], where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ReferenceError(f"nested deeper than {MAX_DEPTH} levels; flatten the params", where)
    if isinstance(value, str):
        return fn(value, where)
    if isinstance(value, dict):
        return {key: _map_strings(item, fn, f"{where}.{key}", depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, fn, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    return value
