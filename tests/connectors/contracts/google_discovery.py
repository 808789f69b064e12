"""Check HTTP requests against a Google API discovery document, the API's own published definition.

The documents ship inside google-api-python-client
(``googleapiclient/discovery_cache/documents/<api>.<version>.json``). For every request a stand-in
receives, :meth:`Discovery.check` finds the method by verb and path template, then checks: every
query parameter is one the method (or the API's standard parameters) defines, with the declared
type and enum; required parameters are there; the JSON body (the metadata part of a multipart
upload) has only fields the request schema defines, recursively, with the declared types and enum
values; and the rules the schema descriptions state ("must represent a single row or column").
"""

from __future__ import annotations

import email
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


@dataclass
class Method:
    id: str
    http: str
    template: str
    regex: re.Pattern[str]
    spec: dict[str, Any]


@dataclass
class Checked:
    method: str
    problems: list[str] = field(default_factory=list)


def _regex(template: str) -> re.Pattern[str]:
    out = ""
    for part in re.split(r"(\{\+?[^}]+\})", template):
        if part.startswith("{"):
            out += "(.+)" if part.startswith("{+") else "([^/]+?)"
        else:
            out += re.escape(part)
    return re.compile(out)


class Discovery:
    def __init__(self, name: str) -> None:
        self.doc = json.loads((DOCUMENTS / f"{name}.json").read_text())
        self.name = name
        self.schemas: dict[str, Any] = self.doc["schemas"]
        self.methods: list[Method] = []
        self._walk(self.doc.get("resources", {}))

    def _walk(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for spec in resource.get("methods", {}).values():
                base = "/" + self.doc["servicePath"]
                templates = [base + spec.get("flatPath", spec["path"])]
                for proto in (spec.get("mediaUpload") or {}).get("protocols", {}).values():
                    templates.append(proto["path"])
                for template in templates:
                    self.methods.append(
                        Method(spec["id"], spec["httpMethod"], template, _regex(template), spec)
                    )
            self._walk(resource.get("resources", {}))

    def scopes(self, method_id: str) -> list[str]:
        return next(m.spec.get("scopes", []) for m in self.methods if m.id == method_id)

    def find(self, verb: str, path: str) -> Method | None:
        hits = [m for m in self.methods if m.http == verb and m.regex.fullmatch(path)]
        # The most literal template wins ("values/{range}:append" over "values/{range}").
        hits.sort(key=lambda m: len(re.sub(r"\{[^}]+\}", "", m.template)), reverse=True)
        return hits[0] if hits else None

    # -- checks --------------------------------------------------------------------------------------
    def check(self, verb: str, url: str, headers: dict[str, str], body: bytes) -> Checked:
        parts = urlsplit(url)
        path = unquote(parts.path)
        method = self.find(verb, path)
        if method is None:
            return Checked("?", [f"{verb} {path}: no method of {self.name} has this verb and path"])
        out = Checked(method.id)
        params = method.spec.get("parameters", {})
        standard = self.doc.get("parameters", {})
        query = parse_qsl(parts.query, keep_blank_values=True)
        seen = {k for k, _ in query}
        for key, value in query:
            spec = params.get(key) or standard.get(key)
            if spec is None:
                out.problems.append(f"{method.id}: query parameter {key!r} is not in the spec")
                continue
            if spec.get("location", "query") != "query":
                out.problems.append(
                    f"{method.id}: {key!r} is a {spec.get('location')} parameter, sent in the query"
                )
            self._scalar(method.id, f"?{key}", spec, value, out.problems, from_query=True)
        for key, spec in params.items():
            if spec.get("required") and spec.get("location") == "query" and key not in seen:
                out.problems.append(f"{method.id}: required query parameter {key!r} is missing")
        ref = (method.spec.get("request") or {}).get("$ref")
        payload = self._payload(headers, body)
        if payload is not None:
            if ref is None:
                out.problems.append(f"{method.id}: sends a body, the spec defines none")
            else:
                self._value(method.id, "body", {"$ref": ref}, payload, out.problems)
        return out

    @staticmethod
    def _payload(headers: dict[str, str], body: bytes) -> Any:
        if not body:
            return None
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if ctype.startswith("multipart/"):
            raw = f"Content-Type: {ctype}\r\n\r\n".encode() + body
            first = list(email.message_from_bytes(raw).walk())[1]
            return json.loads(first.get_payload(decode=True))
        if "json" in ctype:
            return json.loads(body)
        return None

    def _value(self, mid: str, where: str, spec: dict[str, Any], value: Any, problems: list[str]) -> None:
        if "$ref" in spec:
            ref = spec["$ref"]
            spec = {**self.schemas[ref], **{k: v for k, v in spec.items() if k != "$ref"}}
        kind = spec.get("type")
        if kind == "object" or "properties" in spec:
            if not isinstance(value, dict):
                problems.append(f"{mid}: {where} must be an object, got {type(value).__name__}")
                return
            props = spec.get("properties", {})
            extra = spec.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    self._rules(mid, f"{where}.{key}", props[key], item, problems)
                    self._value(mid, f"{where}.{key}", props[key], item, problems)
                elif extra is not None:
                    self._value(mid, f"{where}.{key}", extra, item, problems)
                else:
                    problems.append(f"{mid}: field {where}.{key} is not in the spec")
        elif kind == "array":
            if not isinstance(value, list):
                problems.append(f"{mid}: {where} must be an array, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self._value(mid, f"{where}[{i}]", spec.get("items", {}), item, problems)
        elif kind == "any" or kind is None:
            return
        else:
            self._scalar(mid, where, spec, value, problems, from_query=False)

    @staticmethod
    def _scalar(
        mid: str, where: str, spec: dict[str, Any], value: Any, problems: list[str], *, from_query: bool
    ) -> None:
        kind, fmt = spec.get("type"), spec.get("format", "")
        ok = True
        if kind == "boolean":
            ok = value in ("true", "false") if from_query else isinstance(value, bool)
        elif kind == "integer":
            text = str(value)
            # int64 travels as a string in JSON; int32 as a number.
            ok = bool(re.fullmatch(r"-?\d+", text)) and (from_query or not isinstance(value, bool))
            if not from_query and fmt == "int32" and not isinstance(value, int):
                ok = False
        elif kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) if not from_query else True
        elif kind == "string":
            ok = isinstance(value, str)
        if not ok:
            problems.append(f"{mid}: {where} = {value!r} is not a {kind}{' ' + fmt if fmt else ''}")
        if spec.get("enum") and value not in spec["enum"]:
            problems.append(f"{mid}: {where} = {value!r} is not one of {spec['enum']}")

    def _rules(self, mid: str, where: str, spec: dict[str, Any], value: Any, problems: list[str]) -> None:
        """Constraints the spec states only in words, read from the field's own description."""
        text = spec.get("description", "")
        if "must represent a single row or column" in text and isinstance(value, dict):
            start, end = value.get("startIndex"), value.get("endIndex")
            if start is None or end is None or int(end) - int(start) != 1:
                problems.append(
                    f"{mid}: {where} spans rows {start}..{end}; "
                    "the spec says it 'must represent a single row or column'"
                )


class Recorder:
    """Collects the check of every request a stand-in answered; :meth:`assert_clean` at the end."""

    def __init__(self, *apis: str) -> None:
        self.apis = [Discovery(api) for api in apis]
        self.checked: list[Checked] = []

    def __call__(self, request: Any) -> Checked:
        body = request.get_data()
        headers = dict(request.headers.items())
        url = request.full_path if request.query_string else request.path
        results = [api.check(request.method, url, headers, body) for api in self.apis]
        best = next((r for r in results if r.method != "?"), results[0])
        self.checked.append(best)
        return best

    @property
    def methods(self) -> set[str]:
        return {c.method for c in self.checked}

    def problems(self) -> list[str]:
        return [p for c in self.checked for p in c.problems]

    def assert_clean(self) -> None:
        assert self.checked, "no request was checked"
        assert self.problems() == [], self.problems()
