"""Load and save workflow definitions: JSON or YAML text, or a file holding either.

Everything that can go wrong is reported as one :class:`DefinitionError` listing every problem
with its location: ``line 3, column 5`` for a syntax error, a JSON path such as
``steps[2].dependsOn[0]`` for anything else. Input is bounded: files over
:data:`MAX_DEFINITION_BYTES` are refused before they are read, nesting deeper than
:data:`MAX_NESTING` is refused, and YAML is turned into data by an iterative builder (no recursion,
aliases counted as the nodes they expand to) so that no input can exhaust the stack or memory.

YAML is read with the YAML 1.2 core schema, the one that agrees with JSON: ``yes``/``no``/``on``
stay strings, ``10:00`` stays a string, dates stay strings, and mapping keys are always strings.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_wfo.definition.errors import (
    DOCUMENT,
    DefinitionError,
    ValidationIssue,
)
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.validation import MAX_NESTING, check_definition

__all__ = [
    "DEFINITION_SUFFIXES",
    "MAX_DEFINITION_BYTES",
    "MAX_NESTING",
    "MAX_YAML_ALIASED_NODES",
    "MAX_YAML_NODES",
    "DefinitionError",
    "ValidationIssue",
    "definition_from_data",
    "load_definition_file",
    "load_workflow_from_json",
    "parse_definition_text",
    "save_workflow_to_json",
    "save_workflow_to_yaml",
]

#: A definition is a few kilobytes; 16 MiB leaves room for large inline data and still bounds time.
MAX_DEFINITION_BYTES = 16 * 1024 * 1024
#: YAML aliases can make a small file expand to a huge value ("billion laughs"); count expanded nodes.
MAX_YAML_NODES = 2_000_000
#: Of which at most this many may come from expanding aliases (each use is a copy).
MAX_YAML_ALIASED_NODES = 100_000
DEFINITION_SUFFIXES = (".json", ".yaml", ".yml")

Source = str | os.PathLike[str] | bytes


def _at(line: int, column: int) -> str:
    return f"line {line}, column {column}"


def _fail(location: str, message: str, source: str | None) -> DefinitionError:
    return DefinitionError([ValidationIssue(location, message)], source)


# --------------------------------------------------------------------------------------------- JSON


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _duplicate_location(text: str, key: str) -> str:
    """Best effort: the second place ``"key":`` appears. Only used to point at a duplicate key."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    matches = pattern.finditer(text)
    first = next(matches, None)
    second = next(matches, None)
    hit = second or first
    if hit is None:
        return DOCUMENT
    line = text.count("\n", 0, hit.start()) + 1
    column = hit.start() - (text.rfind("\n", 0, hit.start()) + 1) + 1
    return _at(line, column)


def _parse_json(text: str, source: str | None) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _fail(_at(exc.lineno, exc.colno), f"invalid JSON: {exc.msg}", source) from None
    except _DuplicateKey as exc:
        raise _fail(
            _duplicate_location(text, exc.key),
            f"duplicate key {exc.key!r}: JSON would silently keep only the last one; write it once",
            source,
        ) from None
    except RecursionError:
        raise _fail(
            DOCUMENT, f"nested too deeply (a definition may nest at most {MAX_NESTING} levels)", source
        ) from None
    except ValueError as exc:  # NaN/Infinity, integers beyond Python's digit limit
        raise _fail(DOCUMENT, f"invalid JSON: {exc}", source) from None


# --------------------------------------------------------------------------------------------- YAML

_Y_NULL = re.compile(r"~|null|Null|NULL|")
_Y_TRUE = re.compile(r"true|True|TRUE")
_Y_FALSE = re.compile(r"false|False|FALSE")
_Y_INT = re.compile(r"[-+]?[0-9]+")
_Y_OCT = re.compile(r"0o[0-7]+")
_Y_HEX = re.compile(r"0x[0-9a-fA-F]+")
_Y_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_Y_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN")

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}

try:  # libyaml when available: fast and iterative; the pure-Python parser is iterative too.
    _YamlLoader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.SafeLoader


_TOO_MANY_NODES = f"the document expands to more than {MAX_YAML_NODES:,} values (aliases included)"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


class _YamlProblem(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        self.location = _at(mark.line + 1, mark.column + 1) if mark is not None else DOCUMENT
        self.message = message


def _resolve_plain(value: str, mark: Any) -> Any:
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
        raise _YamlProblem(mark, "number too large") from None
    if _Y_FLOAT.fullmatch(value):
        number = float(value)
        if not math.isfinite(number):
            raise _YamlProblem(mark, f"{value} is too large for a JSON number")
        return number
    if _Y_SPECIAL.fullmatch(value):
        raise _YamlProblem(mark, f"{value} is not a JSON number; quote it to mean the text")
    return value


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        return (
            _resolve_plain(event.value, event.start_mark) if not event.style and tag is None else event.value
        )
    if tag not in _SCALAR_TAGS:
        raise _YamlProblem(
            event.start_mark, f"unsupported YAML tag {_short_tag(tag)}: a definition is plain JSON data"
        )
    if tag == f"{_TAG}str":
        return event.value
    value = _resolve_plain(event.value, event.start_mark)
    expected: dict[str, Callable[[Any], bool]] = {
        f"{_TAG}int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        f"{_TAG}float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        f"{_TAG}bool": lambda v: isinstance(v, bool),
        f"{_TAG}null": lambda v: v is None,
    }
    if not expected[tag](value):
        raise _YamlProblem(event.start_mark, f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}")
    if tag == f"{_TAG}float":
        return float(value)
    return value


class _Frame:
    __slots__ = ("anchor", "container", "key", "key_mark", "start_nodes")

    def __init__(self, container: dict[str, Any] | list[Any], anchor: str | None, start_nodes: int) -> None:
        self.container = container
        self.anchor = anchor
        self.start_nodes = start_nodes
        self.key: str | None = None
        self.key_mark: Any = None


def _build_yaml(text: str) -> Any:
    """YAML events to JSON data, iteratively, with depth, size and duplicate-key checks."""
    loader = _YamlLoader(text)
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    nodes = 0
    aliased = 0
    documents = 0
    root: Any = None

    def add(value: Any, mark: Any, is_scalar_key_text: str | None) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        container = frame.container
        if isinstance(container, list):
            container.append(value)
            return
        if frame.key is None:
            if is_scalar_key_text is None:
                raise _YamlProblem(mark, "mapping keys must be plain text, not lists or objects")
            if is_scalar_key_text in container:
                raise _YamlProblem(mark, f"duplicate key {is_scalar_key_text!r}; write it once")
            frame.key = is_scalar_key_text
            frame.key_mark = mark
            return
        container[frame.key] = value
        frame.key = None

    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _YamlProblem(event.start_mark, "only one YAML document per file")
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                in_key_position = (
                    bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None
                )
                if in_key_position and event.value == "<<" and not event.style and event.tag is None:
                    raise _YamlProblem(
                        event.start_mark, "YAML merge keys (<<) are not supported; write the keys out"
                    )
                value = event.value if in_key_position else _scalar(event)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                add(value, event.start_mark, event.value if in_key_position else None)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", f"{_TAG}map", f"{_TAG}seq", f"{_TAG}omap"):
                    raise _YamlProblem(
                        event.start_mark,
                        f"unsupported YAML tag {_short_tag(event.tag)}: a definition is plain JSON data",
                    )
                if len(stack) >= MAX_NESTING:
                    raise _YamlProblem(
                        event.start_mark,
                        f"nested too deeply (a definition may nest at most {MAX_NESTING} levels)",
                    )
                nodes += 1
                container: dict[str, Any] | list[Any] = (
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                )
                add(container, event.start_mark, None)
                stack.append(_Frame(container, event.anchor, nodes))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = (frame.container, nodes - frame.start_nodes + 1)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise _YamlProblem(event.start_mark, f"unknown alias *{event.anchor}")
                value, size = anchors[event.anchor]
                nodes += size
                aliased += size
                if aliased > MAX_YAML_ALIASED_NODES:  # refused before anything is copied
                    raise _YamlProblem(
                        event.start_mark,
                        f"aliases expand to more than {MAX_YAML_ALIASED_NODES:,} values; write the data out",
                    )
                if nodes > MAX_YAML_NODES:
                    raise _YamlProblem(event.start_mark, _TOO_MANY_NODES)
                in_key_position = (
                    bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None
                )
                key_text = value if in_key_position and isinstance(value, str) else None
                # JSON data shares nothing: each use of an alias is its own copy (bounded by the count).
                add(copy.deepcopy(value), event.start_mark, key_text)
            if nodes > MAX_YAML_NODES:
                raise _YamlProblem(getattr(event, "start_mark", None), _TOO_MANY_NODES)
    finally:
        loader.dispose()
    return root


def _parse_yaml(text: str, source: str | None) -> Any:
    try:
        return _build_yaml(text)
    except _YamlProblem as exc:
        raise _fail(exc.location, exc.message, source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _at(mark.line + 1, mark.column + 1) if mark is not None else DOCUMENT
        problem = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        raise _fail(where, f"invalid YAML: {problem}", source) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise _fail(DOCUMENT, f"invalid YAML: {exc}".splitlines()[0], source) from None
    except RecursionError:
        raise _fail(DOCUMENT, f"nested too deeply (at most {MAX_NESTING} levels)", source) from None


# ------------------------------------------------------------------------------------- reading input


def _decode(raw: bytes, source: str | None) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(DOCUMENT, f"not UTF-8 text (invalid byte at offset {exc.start})", source) from None


def _too_big(size: int, source: str | None) -> DefinitionError:
    return _fail(
        DOCUMENT,
        f"{size:,} bytes is more than a definition may hold ({MAX_DEFINITION_BYTES:,} bytes)",
        source,
    )


def _read_file(path: Path) -> str:
    source = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise _fail(DOCUMENT, "is a folder, not a definition file", source)
        if size > MAX_DEFINITION_BYTES:
            raise _too_big(size, source)
        with path.open("rb") as handle:
            raw = handle.read(MAX_DEFINITION_BYTES + 1)
    except FileNotFoundError:
        raise _fail(DOCUMENT, "file not found", source) from None
    except OSError as exc:
        raise _fail(DOCUMENT, f"cannot read the file: {exc.strerror or exc}", source) from None
    if len(raw) > MAX_DEFINITION_BYTES:  # grew while we looked, or a special file
        raise _too_big(len(raw), source)
    return _decode(raw, source)


def _looks_like_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def parse_definition_text(text: str, fmt: str | None = None, source: str | None = None) -> Any:
    """Text to JSON data. ``fmt`` is ``"json"``, ``"yaml"`` or None (guess: ``{`` means JSON)."""
    if len(text) > MAX_DEFINITION_BYTES:
        raise _too_big(len(text.encode("utf-8", "surrogatepass")), source)
    if not text.strip():
        raise _fail(DOCUMENT, "the definition is empty", source)
    if fmt is None:
        fmt = "json" if _looks_like_json(text) else "yaml"
    data = _parse_json(text, source) if fmt == "json" else _parse_yaml(text, source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "empty" if data is None else "a single value"
        raise _fail(
            DOCUMENT, f"a workflow definition is an object with id, name and steps; this is {kind}", source
        )
    return data


def _format_for(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if _looks_like_json(text) else "yaml"


def _is_path(text: str) -> bool:
    if "\n" in text or len(text) > 4096 or _looks_like_json(text):
        return False
    candidate = text.strip()
    return candidate.lower().endswith(DEFINITION_SUFFIXES) or os.path.isfile(candidate)


def definition_from_data(
    data: Any, *, source: str | None = None, validate: bool = True
) -> WorkflowDefinition:
    """A definition from already-parsed JSON data (a dict with camelCase keys)."""
    model, issues = check_definition(data, semantic=validate)
    if issues or model is None:
        raise DefinitionError(issues, source)
    return model


def load_definition_file(path: str | os.PathLike[str], *, validate: bool = True) -> WorkflowDefinition:
    """Load a ``.json``, ``.yaml`` or ``.yml`` file (other names: ``{`` first means JSON)."""
    file = Path(path)
    text = _read_file(file)
    data = parse_definition_text(text, _format_for(file, text), str(file))
    return definition_from_data(data, source=str(file), validate=validate)


def load_workflow_from_json(
    source: Source | Mapping[str, Any], *, validate: bool = True
) -> WorkflowDefinition:
    """Load a definition from JSON or YAML text, or from a path to a ``.json``/``.yaml``/``.yml`` file.

    An already-parsed dict (camelCase keys, as in the file) is accepted too.

    A ``str`` is a path when it is one line ending in one of those suffixes (or naming an existing
    file); otherwise it is the definition itself. With ``validate`` (the default) every rule of
    :func:`~airflow_provider_wfo.definition.validation.validate_workflow` is checked too, so what
    this returns can be turned into a DAG. Raises :class:`DefinitionError` listing every problem.
    """
    if isinstance(source, os.PathLike):
        return load_definition_file(source, validate=validate)
    if isinstance(source, Mapping):
        return definition_from_data(source, validate=validate)
    if isinstance(source, bytes):
        if len(source) > MAX_DEFINITION_BYTES:
            raise _too_big(len(source), None)
        source = _decode(source, None)
    if not isinstance(source, str):
        raise DefinitionError(
            [ValidationIssue(DOCUMENT, f"expected JSON/YAML text or a path, got {type(source).__name__}")]
        )
    if _is_path(source):
        return load_definition_file(source.strip(), validate=validate)
    data = parse_definition_text(source)
    return definition_from_data(data, validate=validate)


def save_workflow_to_json(defn: WorkflowDefinition, *, indent: int | None = 2) -> str:
    """The definition as JSON text, as it would be written by hand: camelCase, defaults left out.

    ``load_workflow_from_json(save_workflow_to_json(d)) == d``.
    """
    return json.dumps(defn.to_json_dict(), indent=indent, ensure_ascii=False) + "\n"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Quotes every string that our YAML 1.2 reader would otherwise read as a number, bool or null."""


def _represent_str(dumper: Any, value: str) -> Any:
    try:
        plain = _resolve_plain(value, None)
    except _YamlProblem:
        plain = None
    style = None if isinstance(plain, str) and value != "<<" else '"'
    return dumper.represent_scalar(f"{_TAG}str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def save_workflow_to_yaml(defn: WorkflowDefinition) -> str:
    """The definition as YAML text (block style, keys in definition order); loads back equal."""
    text: str = yaml.dump(defn.to_json_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text
