"""Issue 12, cases 3 and 4: params schemas are checked offline and in linear time, at validate time,
at parse time (DagBag with the loader) and at trigger time (the api-server's params check on the
serialized DAG)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.definition.validation import validate_workflow

LOADER = "from airflow_provider_wfo import load_workflow_dags\n\nload_workflow_dags(globals())\n"
HOSTILE_PATTERN = "(a|aa)+$"
#: Python's backtracking engine needs about fib(61) steps to give up on this value.
HOSTILE_VALUE = "a" * 60 + "!"


def _defn(dag_id: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": dag_id,
        "name": dag_id,
        "params": params,
        "steps": [{"id": "a", "target": "test", "action": "noop"}],
    }


def _errors(params: dict[str, Any]) -> list[tuple[str, str]]:
    result = validate_workflow(_defn("bounds-params", params))
    return [(e.location, e.message) for e in result.errors]


@pytest.mark.timeout(60)
def test_remote_ref_is_refused_without_a_request(httpserver: Any) -> None:
    httpserver.expect_request("/schema.json").respond_with_json({"type": "string"})
    url = httpserver.url_for("/schema.json")
    errors = _errors({"customer": {"$ref": url, "default": "x"}})
    assert errors and errors[0][0] == "params.customer.$ref"
    assert "not a local reference" in errors[0][1] and "#/$defs/" in errors[0][1]
    # a relative reference resolves against a remote base too; one hidden under a property
    # called "default" is found as well
    errors = _errors({"c": {"type": "object", "properties": {"default": {"$ref": "other.json"}}}})
    assert [loc for loc, _ in errors] == ["params.c.properties.default.$ref"]
    assert httpserver.log == []


def test_local_refs_still_work() -> None:
    schema = {"$defs": {"code": {"type": "string", "pattern": "^[A-Z]+$"}}, "$ref": "#/$defs/code"}
    assert _errors({"code": {**schema, "default": "ABC"}}) == []
    errors = _errors({"code": {**schema, "default": "abc"}})
    assert errors == [
        (
            "params.code.default",
            "the default does not match the param's schema: 'abc' does not match '^[A-Z]+$'",
        )
    ]


@pytest.mark.timeout(60)
def test_catastrophic_pattern_is_checked_in_linear_time() -> None:
    errors = _errors({"code": {"type": "string", "pattern": HOSTILE_PATTERN, "default": HOSTILE_VALUE}})
    assert errors == [
        (
            "params.code.default",
            f"the default does not match the param's schema: {HOSTILE_VALUE!r} does not match '(a|aa)+$'",
        )
    ]


@pytest.mark.parametrize(
    ("schema", "location", "words"),
    [
        ({"type": "string", "pattern": "(a)\\1"}, "params.p.pattern", "RE2"),
        ({"type": "string", "pattern": "^(?=a)"}, "params.p.pattern", "lookaround"),
        (
            {"type": "object", "properties": {"q": {"type": "string", "pattern": "(?!x)"}}},
            "params.p.properties.q.pattern",
            "RE2",
        ),
        ({"type": "object", "patternProperties": {"^a": {}}}, "params.p.patternProperties", "properties"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "params.p.$schema", "2020-12"),
        (
            {"items": {"$schema": "https://json-schema.org/draft/2020-12/schema"}},
            "params.p.items.$schema",
            "top",
        ),
    ],
)
def test_what_the_linear_engine_cannot_run_is_refused(
    schema: dict[str, Any], location: str, words: str
) -> None:
    errors = _errors({"p": schema})
    assert [loc for loc, _ in errors] == [location]
    assert words in errors[0][1]


def _serialized_dag(folder: Path, defn: dict[str, Any]) -> Any:
    """The DAG as the api-server holds it: parsed by a DagBag, serialized, read back."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    (folder / f"{defn['id']}.json").write_text(json.dumps(defn))
    (folder / "load.py").write_text(LOADER)
    bag = DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="test")
    assert bag.import_errors == {}
    return DagSerialization.from_dict(json.loads(json.dumps(DagSerialization.to_dict(bag.dags[defn["id"]]))))


@pytest.mark.timeout(120)
def test_trigger_conf_is_checked_on_re2_with_a_human_message(tmp_path: Path, airflow_db: Path) -> None:
    from airflow.exceptions import ParamValidationError

    params = {
        "code": {"type": "string", "pattern": HOSTILE_PATTERN, "default": "aa"},
        "time": {
            "type": "string",
            "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$",
            "default": "10:30",
            "patternMessage": "a time such as 09:30 or 17:45 (24-hour HH:MM)",
        },
    }
    dag = _serialized_dag(tmp_path, _defn("bounds-trigger", params))
    # what POST /api/v2/dags/{id}/dagRuns does with the conf (validate_context -> params.validate())
    with pytest.raises(ParamValidationError) as caught:
        dag.params.deep_merge({"code": HOSTILE_VALUE}).validate()
    assert "does not match" in str(caught.value)
    with pytest.raises(ParamValidationError) as caught:
        dag.params.deep_merge({"time": "25:99"}).validate()
    assert str(caught.value) == (
        "Invalid input for param time: '25:99': a time such as 09:30 or 17:45 (24-hour HH:MM)"
    )
    assert dag.params.deep_merge({"time": "17:45", "code": "aaa"}).validate() == {
        "time": "17:45",
        "code": "aaa",
    }


@pytest.mark.timeout(120)
def test_hostile_definitions_do_not_hide_a_good_one_at_parse_time(tmp_path: Path, httpserver: Any) -> None:
    """A fresh interpreter (no dialect registered by earlier tests) parses a folder holding a good
    definition, a remote $ref and a catastrophic pattern: the good DAG loads, the others are
    reported, and nothing is fetched."""
    httpserver.expect_request("/schema.json").respond_with_json({"type": "string"})
    (tmp_path / "good.json").write_text(json.dumps(_defn("good", {"n": {"type": "integer", "default": 1}})))
    (tmp_path / "remote.json").write_text(
        json.dumps(_defn("remote", {"c": {"$ref": httpserver.url_for("/schema.json")}}))
    )
    (tmp_path / "redos.json").write_text(
        json.dumps(
            _defn("redos", {"c": {"type": "string", "pattern": HOSTILE_PATTERN, "default": HOSTILE_VALUE}})
        )
    )
    (tmp_path / "load.py").write_text(LOADER)
    script = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1], bundle_name='t')\n"
        "for dag_id, dag in sorted(bag.dags.items()):\n"
        "    print('DAG', dag_id, sorted(dag.tags), (dag.description or '').replace('\\n', ' | '))\n"
        "print('ERRORS', bag.import_errors)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=110, check=True
    ).stdout
    dags = {line.split()[1]: line for line in out.splitlines() if line.startswith("DAG ")}
    assert sorted(dags) == ["good", "redos", "remote"]
    assert "wfo-broken" not in dags["good"]
    # the broken ones are placeholders (docs/dropin.md) that say why
    assert "wfo-broken" in dags["remote"] and "params.c.$ref" in dags["remote"]
    assert "not a local reference" in dags["remote"]
    assert "wfo-broken" in dags["redos"] and "params.c.default" in dags["redos"]
    assert "does not match" in dags["redos"]
    assert "ERRORS {}" in out
    assert httpserver.log == []
