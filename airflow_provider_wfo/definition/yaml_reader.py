"""YAML text to JSON data, under the YAML 1.2 core schema, iteratively and with bounds.

The YAML 1.2 core schema is the one that agrees with JSON: ``yes``/``no``/``on`` stay strings,
``10:00`` stays a string, dates stay strings, and mapping keys are always strings. The builder
works on parser events (no recursion, so no input can exhaust the stack), refuses tags, merge
keys and more than one document, and counts aliases as the nodes and the characters they expand
to, so that a small file cannot expand into a huge value (many aliases, or a few of a large one).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from airflow_provider_wfo.definition.errors import DOCUMENT
from airflow_provider_wfo.definition.rules import (
    MAX_NESTING,
    MAX_YAML_ALIASED_NODES,
    MAX_YAML_EXPANDED_CHARS,
    MAX_YAML_NODES,
)

__all__ = ["TAG_PREFIX", "YamlProblem", "build_yaml", "resolve_plain"]

_Y_NULL = re.compile(r"~|null|Null|NULL|")
_Y_TRUE = re.compile(r"true|True|TRUE")
_Y_FALSE = re.compile(r"false|False|FALSE")
_Y_INT = re.compile(r"[-+]?[0-9]+")
_Y_OCT = re.compile(r"0o[0-7]+")
_Y_HEX = re.compile(r"0x[0-9a-fA-F]+")
_Y_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_Y_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN")

TAG_PREFIX = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{TAG_PREFIX}{name}" for name in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = (None, "!", f"{TAG_PREFIX}map", f"{TAG_PREFIX}seq", f"{TAG_PREFIX}omap")
_TAG_CHECKS: dict[str, Callable[[Any], bool]] = {
    f"{TAG_PREFIX}int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    f"{TAG_PREFIX}float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    f"{TAG_PREFIX}bool": lambda v: isinstance(v, bool),
    f"{TAG_PREFIX}null": lambda v: v is None,
}

try:  # libyaml when available: fast and iterative; the pure-Python parser is iterative too.
    _YamlLoader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.SafeLoader

_TOO_MANY_NODES = f"the document expands to more than {MAX_YAML_NODES:,} values (aliases included)"
_TOO_LARGE = (
    f"the document expands to more than {MAX_YAML_EXPANDED_CHARS:,} characters of values "
    "(aliases included); write the data out, or use fewer aliases of large values"
)
_TOO_DEEP = f"nested too deeply (a definition may nest at most {MAX_NESTING} levels)"


class YamlProblem(Exception):
    """A problem at a place in the text (``location`` is ``line L, column C``)."""

    def __init__(self, mark: Any, message: str) -> None:
        self.location = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else DOCUMENT
        self.message = message


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(TAG_PREFIX) :] if tag.startswith(TAG_PREFIX) else tag


def resolve_plain(value: str, mark: Any) -> Any:
    """A plain (unquoted) scalar under the YAML 1.2 core schema."""
    if _Y_NULL.fullmatch(value):
        return None
    if _Y_TRUE.fullmatch(value):
        return True
    if _Y_FALSE.fullmatch(value):
        return False
    try:
        if _Y_INT.fullmatch(value):
            return int(value, 10)
        if _Y_OCT.fullmatch(value):
            return int(value[2:], 8)
        if _Y_HEX.fullmatch(value):
            return int(value[2:], 16)
    except ValueError:  # more digits than Python converts
        raise YamlProblem(mark, "number too large") from None
    if _Y_FLOAT.fullmatch(value):
        number = float(value)
        if not math.isfinite(number):
            raise YamlProblem(mark, f"{value} is too large for a JSON number")
        return number
    if _Y_SPECIAL.fullmatch(value):
        raise YamlProblem(mark, f"{value} is not a JSON number; quote it to mean the text")
    return value


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        return (
            resolve_plain(event.value, event.start_mark) if not event.style and tag is None else event.value
        )
    if tag not in _SCALAR_TAGS:
        raise YamlProblem(
            event.start_mark, f"unsupported YAML tag {_short_tag(tag)}: a definition is plain JSON data"
        )
    if tag == f"{TAG_PREFIX}str":
        return event.value
    value = resolve_plain(event.value, event.start_mark)
    if not _TAG_CHECKS[tag](value):
        raise YamlProblem(event.start_mark, f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}")
    if tag == f"{TAG_PREFIX}float":
        return float(value)
    return value


class _Frame:
    """An open mapping or sequence, and (for a mapping) the key waiting for its value."""

    __slots__ = ("anchor", "container", "key", "start_chars", "start_nodes")

    def __init__(
        self, container: dict[str, Any] | list[Any], anchor: str | None, start_nodes: int, start_chars: int
    ) -> None:
        self.container = container
        self.anchor = anchor
        self.start_nodes = start_nodes
        self.start_chars = start_chars
        self.key: str | None = None


class _Builder:
    """Parser events to one JSON value; one ``on_*`` method per kind of event."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        #: anchor -> (value, how many nodes and characters it counts for when aliased)
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.nodes = 0
        #: characters of every scalar so far, aliases expanded (what the value costs once copied)
        self.chars = 0
        self.aliased = 0
        self.documents = 0
        self.root: Any = None

    def in_key_position(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].container, dict) and self.stack[-1].key is None

    def add(self, value: Any, mark: Any, key_text: str | None) -> None:
        """Place ``value`` in the open container (``key_text``: its text if it may be a key)."""
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, list):
            container.append(value)
            return
        if frame.key is None:
            if key_text is None:
                raise YamlProblem(mark, "mapping keys must be plain text, not lists or objects")
            if key_text in container:
                raise YamlProblem(mark, f"duplicate key {key_text!r}; write it once")
            frame.key = key_text
            return
        container[frame.key] = value
        frame.key = None

    def on_document_start(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            raise YamlProblem(event.start_mark, "only one YAML document per file")

    def count_chars(self, size: int, mark: Any) -> None:
        self.chars += size
        if self.chars > MAX_YAML_EXPANDED_CHARS:
            raise YamlProblem(mark, _TOO_LARGE)

    def on_scalar(self, event: Any) -> None:
        self.nodes += 1
        self.count_chars(len(event.value) + 1, event.start_mark)
        is_key = self.in_key_position()
        if is_key and event.value == "<<" and not event.style and event.tag is None:
            raise YamlProblem(event.start_mark, "YAML merge keys (<<) are not supported; write the keys out")
        value = event.value if is_key else _scalar(event)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, len(event.value) + 1)
        self.add(value, event.start_mark, event.value if is_key else None)

    def on_collection_start(self, event: Any) -> None:
        if event.tag not in _COLLECTION_TAGS:
            raise YamlProblem(
                event.start_mark,
                f"unsupported YAML tag {_short_tag(event.tag)}: a definition is plain JSON data",
            )
        if len(self.stack) >= MAX_NESTING:
            raise YamlProblem(event.start_mark, _TOO_DEEP)
        self.nodes += 1
        container: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.add(container, event.start_mark, None)
        self.stack.append(_Frame(container, event.anchor, self.nodes, self.chars))

    def on_collection_end(self, event: Any) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (
                frame.container,
                self.nodes - frame.start_nodes + 1,
                self.chars - frame.start_chars,
            )

    def on_alias(self, event: Any) -> None:
        if event.anchor not in self.anchors:
            raise YamlProblem(event.start_mark, f"unknown alias *{event.anchor}")
        value, size, chars = self.anchors[event.anchor]
        self.nodes += size
        self.aliased += size
        self.count_chars(chars, event.start_mark)
        if self.aliased > MAX_YAML_ALIASED_NODES:  # refused before anything is copied
            raise YamlProblem(
                event.start_mark,
                f"aliases expand to more than {MAX_YAML_ALIASED_NODES:,} values; write the data out",
            )
        if self.nodes > MAX_YAML_NODES:
            raise YamlProblem(event.start_mark, _TOO_MANY_NODES)
        key_text = value if self.in_key_position() and isinstance(value, str) else None
        # JSON data shares nothing: each use of an alias is its own copy (bounded by the count).
        self.add(copy.deepcopy(value), event.start_mark, key_text)

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.on_document_start(event)
        elif isinstance(event, yaml.ScalarEvent):
            self.on_scalar(event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.on_collection_start(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.on_collection_end(event)
        elif isinstance(event, yaml.AliasEvent):
            self.on_alias(event)
        if self.nodes > MAX_YAML_NODES:
            raise YamlProblem(getattr(event, "start_mark", None), _TOO_MANY_NODES)


def build_yaml(text: str) -> Any:
    """YAML text to JSON data; raises :class:`YamlProblem` or one of PyYAML's errors."""
    loader = _YamlLoader(text)
    builder = _Builder()
    try:
        while loader.check_event():
            builder.feed(loader.get_event())
    finally:
        loader.dispose()
    return builder.root
