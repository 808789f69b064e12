"""Check Trello requests against trello-rest.json (Trello's REST reference, source named there):
path and verb, every query parameter, required ones, value formats, label colors, and no key or
token in the URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SPEC = json.loads((Path(__file__).parent / "trello-rest.json").read_text())
ID = re.compile(r"[0-9a-zA-Z_-]{1,64}")  # real ids are 24 hex digits; stand-ins name theirs
FORMATS = {
    "string": lambda v: True,
    "id": lambda v: bool(ID.fullmatch(v)),
    "ids": lambda v: all(ID.fullmatch(p) for p in v.split(",")),
    "integer": lambda v: v.isdigit(),
    "boolean": lambda v: v in ("true", "false"),
    "date": lambda v: bool(re.match(r"\d{4}-\d{2}-\d{2}", v)),
    "url": lambda v: v.startswith(("http://", "https://")),
    "color": lambda v: v in SPEC["colors"],
    "top|bottom|number": lambda v: v in ("top", "bottom") or v.replace(".", "", 1).isdigit(),
}


def _route(method: str, path: str) -> str | None:
    for route in SPEC["endpoints"]:
        verb, _, template = route.partition(" ")
        if verb == method and re.fullmatch(re.escape(template).replace(re.escape("{id}"), "[^/]+"), path):
            return route
    return None


def check(method: str, path: str, query: dict[str, str]) -> list[str]:
    route = _route(method, path)
    if route is None:
        return [f"{method} {path}: not an endpoint of Trello's REST reference (as kept in trello-rest.json)"]
    spec = SPEC["endpoints"][route]
    problems = []
    for key, value in query.items():
        if key in ("key", "token"):
            problems.append(f"{route}: credential {key!r} in the URL")
        elif key not in spec["params"]:
            problems.append(f"{route}: parameter {key!r} is not in the reference")
        elif not FORMATS[spec["params"][key]](value):
            problems.append(f"{route}: {key}={value!r} is not a {spec['params'][key]}")
    problems += [
        f"{route}: required parameter {key!r} is missing"
        for key in spec.get("required", [])
        if key not in query
    ]
    return problems


class TrelloRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, request: Any) -> None:
        query = dict(request.args.items())
        problems = check(request.method, request.path, query)
        if request.get_data():
            problems.append(f"{request.method} {request.path}: sends a body; Trello takes query parameters")
        extra = {k for k, _ in request.headers.items() if k.lower() not in ALLOWED_HEADERS}
        if extra:
            problems.append(f"{request.method} {request.path}: unexpected headers {sorted(extra)}")
        self.calls.append((f"{request.method} {request.path}", problems))

    def assert_clean(self) -> None:
        assert self.calls, "no Trello request was checked"
        problems = [p for _, found in self.calls for p in found]
        assert problems == [], problems


#: What requests sends by itself, plus the Authorization header Trello documents.
ALLOWED_HEADERS = {
    "host",
    "user-agent",
    "accept-encoding",
    "accept",
    "connection",
    "authorization",
    "content-length",
}
