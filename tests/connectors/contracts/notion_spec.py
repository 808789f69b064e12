"""Check Notion API requests against the pinned version's request shapes (notion-2025-09-03.json,
transcribed from Notion's reference, sources named in the file). ``false`` marks a GET that takes
no body. The request must also carry the pinned ``Notion-Version`` header."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

SPEC = json.loads((Path(__file__).parent / "notion-2025-09-03.json").read_text())
VERSION = "2025-09-03"


def _route(method: str, path: str) -> str | None:
    for route in SPEC["requests"]:
        verb, _, template = route.partition(" ")
        pattern = re.escape(template).replace(re.escape("{id}"), "[^/]+")
        if verb == method and re.fullmatch(pattern, path):
            return route
    return None


def check(method: str, path: str, headers: dict[str, str], body: Any) -> list[str]:
    route = _route(method, path)
    if route is None:
        return [f"{method} {path}: not a request of the pinned API reference"]
    problems = []
    if headers.get("Notion-Version") != VERSION:
        problems.append(f"{route}: Notion-Version {headers.get('Notion-Version')!r}, pinned {VERSION}")
    schema = SPEC["requests"][route]
    if schema is False:
        if body:
            problems.append(f"{route}: sends a body, the reference defines none")
        return problems
    validator = jsonschema.Draft202012Validator({**schema, "$defs": SPEC["$defs"]})
    for error in validator.iter_errors(body if body is not None else {}):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{route}: {where or 'body'}: {error.message[:200]}")
    return problems


class NotionRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, request: Any) -> None:
        body = json.loads(request.get_data() or b"null")
        headers = dict(request.headers.items())
        self.calls.append(
            (f"{request.method} {request.path}", check(request.method, request.path, headers, body))
        )

    def assert_clean(self) -> None:
        assert self.calls, "no Notion request was checked"
        problems = [p for _, found in self.calls for p in found]
        assert problems == [], problems
