"""Loading JSON and YAML: errors with locations, bounded time and memory, no traceback ever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.definition.errors import DOCUMENT, DefinitionError, ValidationIssue
from airflow_provider_wfo.definition.loading import (
    MAX_DEFINITION_BYTES,
    MAX_NESTING,
    definition_from_data,
    load_definition_file,
    load_workflow_from_json,
    parse_definition_text,
    save_workflow_to_json,
    save_workflow_to_yaml,
)
from airflow_provider_wfo.definition.rules import MAX_STEPS


def issues_of(source: Any, **kwargs: Any) -> list[ValidationIssue]:
    with pytest.raises(DefinitionError) as info:
        load_workflow_from_json(source, **kwargs)
    assert isinstance(info.value, ValueError)
    assert "Traceback" not in str(info.value)
    return info.value.issues


def only(source: Any) -> ValidationIssue:
    issues = issues_of(source)
    assert len(issues) == 1, issues
    return issues[0]


# ------------------------------------------------------------------------------------ unknown keys


@pytest.mark.parametrize(
    ("where", "typo", "suggested", "location"),
    [
        ("step", "dependOn", "dependsOn", "steps[0].dependOn"),
        ("step", "depends_on", "dependsOn", "steps[0].depends_on"),
        ("step", "retrycount", "retryCount", "steps[0].retrycount"),
        ("step", "timout", "timeout", "steps[0].timout"),
        ("top", "rollbackOnFaliure", "rollbackOnFailure", "rollbackOnFaliure"),
        ("top", "start_date", "startDate", "start_date"),
        ("rollback", "paramz", "params", "steps[0].rollback.paramz"),
    ],
)
def test_unknown_key_is_refused_with_did_you_mean(
    minimal: dict[str, Any], where: str, typo: str, suggested: str, location: str
) -> None:
    doc = json.loads(json.dumps(minimal))
    if where == "top":
        doc[typo] = True
    elif where == "step":
        doc["steps"][0][typo] = []
    else:
        doc["steps"][0]["rollback"] = {"action": "delete_card", "target": "tasks", typo: {}}
    issue = only(json.dumps(doc))
    assert issue.location == location
    assert issue.message == f"unknown key {typo!r}; did you mean {suggested!r}?"


def test_unknown_key_without_a_near_one_lists_the_known_keys(minimal: dict[str, Any]) -> None:
    minimal["steps"][0]["zzzzzz"] = 1
    issue = only(json.dumps(minimal))
    assert issue.location == "steps[0].zzzzzz"
    assert "known keys:" in issue.message and "dependsOn" in issue.message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("retryCount", "3", 'expected a whole number, got the string "3"'),
        ("retryCount", 2.5, "expected a whole number, got the number 2.5"),
        ("retryCount", True, "expected a whole number, got true"),
        ("optional", "yes", "expected true or false"),
        ("dependsOn", "step-0", "expected a list"),
        ("params", [], "expected an object"),
        ("timeout", -5, "must be at least 1 ms"),
        ("retryBackoff", "2", "expected a number"),
        ("name", 7, "expected a string"),
    ],
)
def test_wrong_type_gives_the_path_and_expected_type(
    minimal: dict[str, Any], key: str, value: Any, expected: str
) -> None:
    minimal["steps"][0][key] = value
    issue = only(json.dumps(minimal))
    assert issue.location == f"steps[0].{key}"
    assert expected in issue.message


def test_all_problems_are_reported_at_once() -> None:
    doc = {
        "id": "bad id",
        "name": "",
        "steps": [
            {"id": "a", "action": "x", "target": "t", "retryCount": -1, "dependOn": ["b"]},
            {"id": "a", "action": "", "target": "t"},
            {"id": "c", "action": "x", "target": "t", "dependsOn": ["zzz"]},
        ],
        "schedule": "every day",
    }
    locations = {i.location for i in issues_of(json.dumps(doc))}
    assert {
        "id",
        "name",
        "steps[0].retryCount",
        "steps[0].dependOn",
        "steps[1].id",
        "steps[1].action",
        "steps[2].dependsOn[0]",
        "schedule",
    } <= locations


# ---------------------------------------------------------------------------------- syntax errors


def test_malformed_json_gives_line_and_column() -> None:
    issue = only('{\n  "id": "x",\n  "name": "y",,\n}')
    assert issue.location == "line 3, column 15"
    assert issue.message.startswith("invalid JSON: ")


def test_truncated_json_gives_line_and_column() -> None:
    issue = only('{"id": "x", "steps": [')
    assert issue.location.startswith("line 1, column ")


def test_malformed_yaml_gives_line_and_column() -> None:
    issue = only("id: x\nname: y\nsteps:\n  - id: a\n    action: [b\n")
    assert issue.location.startswith("line ")
    assert ", column " in issue.location
    assert issue.message.startswith("invalid YAML: ")


def test_yaml_tab_indentation_gives_line_and_column() -> None:
    issue = only("id: x\nsteps:\n\t- id: a\n")
    assert issue.location == "line 3, column 1"


def test_duplicate_keys_are_refused_in_json_and_yaml() -> None:
    issue = only('{"id": "x", "name": "a",\n "name": "b", "steps": []}')
    assert issue.location == "line 2, column 2"
    assert "duplicate key 'name'" in issue.message
    issue = only("id: x\nname: a\nname: b\nsteps: []\n")
    assert issue.location == "line 3, column 1"
    assert "duplicate key 'name'" in issue.message


def test_non_json_numbers_are_refused() -> None:
    assert "NaN" in only('{"id": NaN}').message
    assert "not a JSON number" in only("id: .nan\n").message
    assert only('{"id": ' + "9" * 5000 + "}").location == DOCUMENT


def test_yaml_python_tags_are_refused() -> None:
    issue = only("id: !!python/object/apply:os.system ['true']\n")
    assert "unsupported YAML tag" in issue.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("[1, 2]", "this is a list"),
        ("null", "this is empty"),
        ("just some words", "this is a single value"),
        ("---\nid: a\n---\nid: b\n", "only one YAML document"),
    ],
)
def test_not_a_definition(text: str, message: str) -> None:
    assert message in only(text).message


# ------------------------------------------------------------------------------------ YAML meaning


def test_yaml_is_read_as_json_data_under_the_core_schema() -> None:
    text = """\
id: yaml-example
name: YAML example
schedule: "0 9 * * 1-5"
startDate: 2025-01-31
tags: [finance, yes, no, on, off]
steps:
  - id: a
    action: file_document
    target: files
    params:
      time: 10:00
      country: NO
      mode: 0755
      count: 12
      ratio: 1.5
      enabled: true
      nothing: null
      hexa: 0x1F
      quoted: "12"
      200: ok
    retryBackoff: 2
"""
    defn = load_workflow_from_json(text)
    assert defn.start_date == "2025-01-31"
    assert defn.tags == ["finance", "yes", "no", "on", "off"]
    params = defn.steps[0].params
    assert params["time"] == "10:00" and params["country"] == "NO"
    assert params["mode"] == 755 and params["count"] == 12 and params["ratio"] == 1.5
    assert params["enabled"] is True and params["nothing"] is None and params["hexa"] == 31
    assert params["quoted"] == "12" and params["200"] == "ok"
    assert defn.steps[0].retry_backoff == 2.0
    # and YAML saving quotes what would otherwise change meaning
    assert load_workflow_from_json(save_workflow_to_yaml(defn)) == defn


def test_yaml_anchors_and_aliases_work() -> None:
    text = """\
id: anchors
name: Anchors
steps:
  - id: a
    action: x
    target: t
    params: &common {channel: ops, tags: [a, b]}
  - id: b
    action: x
    target: t
    params: *common
"""
    defn = load_workflow_from_json(text)
    assert defn.steps[1].params == {"channel": "ops", "tags": ["a", "b"]}


def test_yaml_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    issue = only("\n".join(lines) + "\n")
    assert "expand to more than" in issue.message
    assert issue.location.startswith("line ")


# -------------------------------------------------------------------------------- paths and kinds


def test_paths_strings_and_bytes(tmp_path: Path, minimal: dict[str, Any]) -> None:
    json_file = tmp_path / "wf.json"
    json_file.write_text(json.dumps(minimal))
    yaml_file = tmp_path / "wf.yml"
    yaml_file.write_text(save_workflow_to_yaml(definition_from_data(minimal)))
    expected = definition_from_data(minimal)
    assert load_workflow_from_json(json_file) == expected
    assert load_workflow_from_json(str(json_file)) == expected
    assert load_workflow_from_json(yaml_file) == expected
    assert load_definition_file(yaml_file) == expected
    assert load_workflow_from_json(json.dumps(minimal).encode()) == expected
    assert load_workflow_from_json(b"\xef\xbb\xbf" + json.dumps(minimal).encode()) == expected  # BOM


def test_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_workflow_from_json(str(tmp_path / "missing.json"))
    assert info.value.source == str(tmp_path / "missing.json")
    assert info.value.issues == [ValidationIssue(DOCUMENT, "file not found")]
    with pytest.raises(DefinitionError) as info:
        load_definition_file(tmp_path)
    assert "folder" in info.value.issues[0].message
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"id": "caf\xe9"}')
    with pytest.raises(DefinitionError) as info:
        load_workflow_from_json(bad)
    assert "not UTF-8" in info.value.issues[0].message


def test_validate_false_checks_structure_only(minimal: dict[str, Any]) -> None:
    minimal["steps"][0]["dependsOn"] = ["nowhere"]
    defn = load_workflow_from_json(json.dumps(minimal), validate=False)
    assert defn.steps[0].depends_on == ["nowhere"]
    minimal["steps"][0]["dependOn"] = []
    with pytest.raises(DefinitionError):
        load_workflow_from_json(json.dumps(minimal), validate=False)


def test_save_leaves_defaults_out_and_round_trips(minimal: dict[str, Any]) -> None:
    defn = definition_from_data(minimal)
    text = save_workflow_to_json(defn)
    assert json.loads(text) == minimal
    assert load_workflow_from_json(text) == defn


def test_definition_error_reads_well() -> None:
    error = DefinitionError([ValidationIssue("steps[0].id", "bad")] * 25, "wf.json")
    text = str(error)
    assert text.splitlines()[0] == "invalid workflow definition wf.json: 25 problems"
    assert "  steps[0].id: bad" in text and "... and 5 more" in text


# --------------------------------------------------------------------------------- bounded inputs


def _chain(n: int) -> dict[str, Any]:
    steps = [
        {
            "id": f"step-{i}",
            "action": "a",
            "target": "t",
            "params": {
                "previous": f"$step-{i - 1}.value" if i else "start",
                "first": "$step-0.id" if i else 0,
            },
        }
        for i in range(n)
    ]
    return {"id": "big", "name": "Big", "steps": steps}


def test_the_most_steps_load_and_validate() -> None:
    defn = load_workflow_from_json(json.dumps(_chain(MAX_STEPS)))
    assert len(defn.steps) == MAX_STEPS


def test_the_most_steps_with_errors_report_them_all() -> None:
    doc = _chain(MAX_STEPS)
    for step in doc["steps"][1:]:
        step["dependsOn"] = []  # every reference now reads a step that is not upstream
    issues = issues_of(json.dumps(doc))
    assert len(issues) == 2 * (MAX_STEPS - 1)
    assert "is not upstream of 'step-1'" in issues[0].message


def test_the_longest_cycle_is_reported_briefly() -> None:
    n = MAX_STEPS
    steps = [
        {"id": f"s{i}", "action": "a", "target": "t", "dependsOn": [f"s{(i + 1) % n}"]} for i in range(n)
    ]
    issues = issues_of(json.dumps({"id": "c", "name": "c", "steps": steps}))
    assert len(issues) == 1 and "circular dependency" in issues[0].message
    assert len(issues[0].message) < 300


def test_ten_megabyte_file_is_accepted(tmp_path: Path, minimal: dict[str, Any]) -> None:
    minimal["steps"][0]["params"]["rows"] = [
        {"vendor": f"Acme {i}", "amount": i * 1.5, "note": "paid $$ in full"} for i in range(160_000)
    ]
    path = tmp_path / "ten-mb.json"
    path.write_text(json.dumps(minimal))
    assert 9_000_000 < path.stat().st_size < MAX_DEFINITION_BYTES
    assert len(load_workflow_from_json(path).steps[0].params["rows"]) == 160_000


def test_oversized_file_and_text_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_DEFINITION_BYTES + 1)
    with pytest.raises(DefinitionError) as info:
        load_workflow_from_json(path)
    assert "more than a definition may hold" in info.value.issues[0].message
    assert "more than a definition may hold" in only("{" + " " * MAX_DEFINITION_BYTES + "}").message


@pytest.mark.parametrize(
    "text",
    [
        '{"id": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"id": ' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}",
        '{"id": ' + "[" * 500 + "]" * 500 + "}",
        "id: " + "[" * 10_000 + "]" * 10_000,
        "id: " + "{a: " * 10_000 + "1" + "}" * 10_000,
        "id: x\nsteps:\n" + "".join("  " * i + "- \n" for i in range(2_000)),
    ],
    ids=["json-lists", "json-objects", "json-500", "yaml-flow-lists", "yaml-flow-maps", "yaml-block"],
)
def test_deep_nesting_is_a_clean_error(text: str) -> None:
    issue = only(text)
    assert "nest" in issue.message


def test_nesting_limit_is_where_it_says(minimal: dict[str, Any]) -> None:
    value: Any = "leaf"
    for _ in range(MAX_NESTING):
        value = [value]
    minimal["steps"][0]["params"]["deep"] = value
    issues = issues_of(json.dumps(minimal))
    assert any("nested too deeply" in i.message for i in issues)
    # params nested moderately deep are fine
    minimal["steps"][0]["params"]["deep"] = json.loads("[" * 30 + "]" * 30)
    assert load_workflow_from_json(json.dumps(minimal)).steps[0].params["deep"]


def test_parse_definition_text_guesses_the_format() -> None:
    assert parse_definition_text('{"a": 1}') == {"a": 1}
    assert parse_definition_text("a: 1") == {"a": 1}
    assert parse_definition_text("a: 1", fmt="yaml") == {"a": 1}


def test_definition_error_pickles_and_dicts_load(minimal: dict[str, Any]) -> None:
    import pickle

    error = DefinitionError([ValidationIssue("steps[0].id", "bad")], "wf.json")
    again = pickle.loads(pickle.dumps(error))
    assert again.issues == error.issues and again.source == "wf.json" and str(again) == str(error)
    assert load_workflow_from_json(minimal) == definition_from_data(minimal)
    with pytest.raises(DefinitionError):
        load_workflow_from_json({**minimal, "steps": []})


def test_yaml_aliases_are_copies() -> None:
    text = "id: a\nname: A\nsteps:\n  - {id: a, action: x, target: t, params: &p {l: [1]}}\n"
    text += "  - {id: b, action: x, target: t, params: *p}\n"
    defn = load_workflow_from_json(text)
    defn.steps[0].params["l"].append(2)
    assert defn.steps[1].params == {"l": [1]}


def test_a_quoted_merge_key_is_an_ordinary_key(minimal: dict[str, Any]) -> None:
    minimal["steps"][0]["params"] = {"<<": 1}
    defn = definition_from_data(minimal)
    assert load_workflow_from_json(save_workflow_to_yaml(defn)) == defn
    assert "merge keys" in only("id: a\nx: &b {c: 1}\ny: {<<: *b}\n").message
