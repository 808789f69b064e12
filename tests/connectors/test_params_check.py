"""Validate time: built-in steps' params against their action's model (wfo validate, the loader,
the JSON Schema), unknown targets and actions as warnings, errors with --strict."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import jsonschema

from airflow_provider_wfo.definition.checks.actions import UnknownActionWarning, strict_actions
from airflow_provider_wfo.definition.schema import workflow_json_schema
from airflow_provider_wfo.definition.validation import validate_workflow

ROOT = Path(__file__).resolve().parents[2]


def wf(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"id": "wf", "name": "W", "steps": list(steps)}


def step(target: str, action: str, params: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "id": f"s{abs(hash((target, action))) % 1000}",
        "target": target,
        "action": action,
        "params": params or {},
        **more,
    }


def issues(doc: dict[str, Any]) -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownActionWarning)
        return {i.location: i.message for i in validate_workflow(doc).errors}


def test_unknown_key_missing_key_and_wrong_type() -> None:
    found = issues(wf(step("trello", "create_task", {"nmae": "x"})))
    assert "did you mean 'name'" in found["steps[0].params.nmae"]
    assert found["steps[0].params.name"] == "required param is missing"
    found = issues(wf(step("gmail", "send_email", {"to": ["a@x"], "html": "yes"})))
    assert list(found) == ["steps[0].params.html"]
    found = issues(
        wf(step("http", "request", {"url": "http://x", "timeout": "abc", "headers": {"X A:b": "1"}}))
    )
    assert set(found) == {"steps[0].params.timeout", "steps[0].params.headers"}


def test_rollback_params_are_checked_too() -> None:
    doc = wf(
        step(
            "drive",
            "file_document",
            {"name": "a"},
            rollback={"target": "drive", "action": "delete_file", "params": {"fileid": "$x.fileId"}},
        )
    )
    found = issues(doc)
    assert "did you mean 'fileId'" in found["steps[0].rollback.params.fileid"]


def test_references_are_accepted_for_any_field_but_literal_only_ones() -> None:
    ok = wf(
        {
            "id": "a",
            "target": "trello",
            "action": "create_task",
            "params": {"name": "$conf.title", "labels": "${conf.labels}"},
        },
        {
            "id": "b",
            "target": "gmail",
            "action": "send_email",
            "params": {"to": "$a.id", "html": "$conf.html"},
        },
        {
            "id": "c",
            "target": "sheets",
            "action": "update_sheet",
            "params": {"spreadsheetId": "s", "values": "$a.x"},
        },
    )
    assert issues(ok) == {}
    opt_in = wf(
        step(
            "sheets", "update_sheet", {"spreadsheetId": "s", "values": [1], "valueInputOption": "$conf.mode"}
        )
    )
    assert "must be written in the definition" in issues(opt_in)["steps[0].params.valueInputOption"]
    literal = wf(
        step(
            "sheets",
            "update_sheet",
            {"spreadsheetId": "s", "values": [1], "valueInputOption": "USER_ENTERED"},
        )
    )
    assert issues(literal) == {}


def test_unknown_target_or_action_warns_by_default_and_is_an_error_when_strict() -> None:
    doc = wf(step("trelo", "create_task", {"name": "x"}), step("trello", "create_tsak", {"name": "x"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownActionWarning)
        assert validate_workflow(doc).valid
    texts = [str(w.message) for w in caught if issubclass(w.category, UnknownActionWarning)]
    assert any("did you mean 'trello'" in t for t in texts) and any(
        "did you mean 'create_task'" in t for t in texts
    )
    with strict_actions():
        strict = {i.location: i.message for i in validate_workflow(doc).errors}
    assert "did you mean 'trello'" in strict["steps[0].target"]
    assert "did you mean 'create_task'" in strict["steps[1].action"]


def test_a_user_registered_action_is_not_checked() -> None:
    from airflow_provider_wfo.actions.registry import register_action, unregister_action

    register_action("trello", "create_task", lambda params, ctx: {})
    try:
        assert issues(wf(step("trello", "create_task", {"anything": 1}))) == {}
    finally:
        unregister_action("trello", "create_task")


def test_wfo_validate_strict_flag_and_the_seed(tmp_path: Path) -> None:
    def wfo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airflow_provider_wfo.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    seed = wfo("validate", str(ROOT / "examples" / "seed"))
    assert seed.returncode == 0, seed.stdout + seed.stderr
    assert "wfo: warning:" in seed.stderr and "no built-in action 'format_message'" in seed.stderr
    assert wfo("validate", "--strict", str(ROOT / "examples" / "seed")).returncode == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(wf(step("trello", "create_task", {"nmae": "x"}))))
    run = wfo("validate", str(bad))
    assert run.returncode == 1 and "steps[0].params.nmae: unknown param (did you mean 'name'?)" in run.stdout


def test_the_json_schema_checks_params_per_target_and_action() -> None:
    validator = jsonschema.Draft202012Validator(workflow_json_schema())
    assert validator.is_valid(wf(step("trello", "create_task", {"name": "x", "labels": ["a"]})))
    assert validator.is_valid(wf(step("gmail", "send_email", {"to": "$conf.to", "html": "$conf.html"})))
    assert not validator.is_valid(wf(step("trello", "create_task", {"nmae": "x"})))
    assert not validator.is_valid(wf(step("gmail", "send_email", {"html": "yes"})))
    assert not validator.is_valid(
        wf(step("sheets", "update_sheet", {"spreadsheetId": "s", "valueInputOption": "$x"}))
    )
    assert validator.is_valid(wf(step("mine", "whatever", {"free": 1})))  # registered in Python: anything
    steps = workflow_json_schema()["$defs"]["WorkflowStep"]
    assert "trello" in steps["properties"]["target"]["examples"]


def test_validation_imports_no_sdk_and_opens_no_network() -> None:
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise SystemExit('network at validate time')\n"
        "socket.socket.connect = refuse\n"
        "from airflow_provider_wfo.cli import main\n"
        f"code = main(['validate', '-q', {str(ROOT / 'examples' / 'seed')!r}])\n"
        "sdks = ('googleapiclient', 'slack_sdk', 'notion_client', 'airflow')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in sdks]\n"
        "print(bad); sys.exit(code or (1 if bad else 0))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
