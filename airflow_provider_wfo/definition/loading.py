"""Load and save workflow definitions: JSON or YAML text, or a file holding either.

Everything that can go wrong is reported as one :class:`DefinitionError` listing every problem
with its location: ``line 3, column 5`` for a syntax error, a JSON path such as
``steps[2].dependsOn[0]`` for anything else. Input is bounded: files over
:data:`MAX_DEFINITION_BYTES` are refused before they are read, nesting deeper than
:data:`MAX_NESTING` is refused, only regular files are read (a FIFO is refused, not waited on),
and YAML is turned into data by the iterative builder of :mod:`.yaml_reader` (YAML 1.2 core
schema, aliases counted as what they expand to) so that no input can exhaust the stack or memory.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_wfo.definition.errors import (
    DOCUMENT,
    DefinitionError,
    ValidationIssue,
)
from airflow_provider_wfo.definition.files import DEFINITION_SUFFIXES, not_regular
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.rules import (
    MAX_DEFINITION_BYTES,
    MAX_NESTING,
    MAX_YAML_ALIASED_NODES,
    MAX_YAML_NODES,
)
from airflow_provider_wfo.definition.validation import check_definition
from airflow_provider_wfo.definition.yaml_reader import TAG_PREFIX, YamlProblem, build_yaml, resolve_plain

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
    "read_definition_data",
    "save_workflow_to_json",
    "save_workflow_to_yaml",
]

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


def _parse_yaml(text: str, source: str | None) -> Any:
    try:
        return build_yaml(text)
    except YamlProblem as exc:
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
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. The
        # type is then checked on the open descriptor, so a file swapped after a listing is caught too.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _fail(DOCUMENT, "file not found", source) from None
    except IsADirectoryError:
        raise _fail(DOCUMENT, "is a folder, not a definition file", source) from None
    except OSError as exc:
        raise _fail(DOCUMENT, f"cannot read the file: {exc.strerror or exc}", source) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _fail(DOCUMENT, "is a folder, not a definition file", source)
        reason = not_regular(info.st_mode)
        if reason is not None:
            raise _fail(DOCUMENT, reason.removeprefix("skipped: "), source)
        if info.st_size > MAX_DEFINITION_BYTES:
            raise _too_big(info.st_size, source)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_DEFINITION_BYTES + 1)
    except OSError as exc:
        raise _fail(DOCUMENT, f"cannot read the file: {exc.strerror or exc}", source) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_DEFINITION_BYTES:  # grew while we looked
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


def read_definition_data(path: str | os.PathLike[str]) -> Any:
    """A definition file's JSON data (a dict), read and parsed but not checked yet."""
    file = Path(path)
    text = _read_file(file)
    return parse_definition_text(text, _format_for(file, text), str(file))


def load_definition_file(path: str | os.PathLike[str], *, validate: bool = True) -> WorkflowDefinition:
    """Load a ``.json``, ``.yaml`` or ``.yml`` file (other names: ``{`` first means JSON)."""
    return definition_from_data(read_definition_data(path), source=str(path), validate=validate)


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
        plain = resolve_plain(value, None)
    except YamlProblem:
        plain = None
    style = None if isinstance(plain, str) and value != "<<" else '"'
    return dumper.represent_scalar(f"{TAG_PREFIX}str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def save_workflow_to_yaml(defn: WorkflowDefinition) -> str:
    """The definition as YAML text (block style, keys in definition order); loads back equal."""
    text: str = yaml.dump(defn.to_json_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text
