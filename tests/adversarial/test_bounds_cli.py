"""Issue 12, cases 11 (ids), 13 (size) and 14 (cosmetic), as a user meets them: ``wfo validate`` and
``wfo run`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.definition.rules import MAX_STEPS

REPO = Path(__file__).resolve().parents[2]


def wfo(*args: str, cwd: Path = REPO, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "TERM": "dumb"}
    if home is not None:
        env["WFO_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=170,
        env=env,
    )


def _write(folder: Path, name: str, defn: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(defn))
    return path


def _defn(wid: str, **extra: Any) -> dict[str, Any]:
    return {"id": wid, "name": "W", "steps": [{"id": "a", "target": "test", "action": "noop"}], **extra}


@pytest.mark.parametrize("wid", ["..", ".hidden", "-", "_x"])
def test_a_workflow_id_starts_with_a_letter_or_digit(tmp_path: Path, wid: str) -> None:
    path = _write(tmp_path, "w.json", _defn(wid))
    run = wfo("validate", str(path))
    assert run.returncode == 1
    assert f"{path}: id: {wid!r}: a workflow id must start with a letter or a digit" in run.stdout
    assert "Traceback" not in run.stderr


def test_wfo_run_refuses_an_id_of_dots_before_touching_the_home(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.json", _defn(".."))
    home = tmp_path / "home"
    run = wfo("run", str(path), "--no-progress", home=home)
    assert run.returncode == 1 and "must start with a letter or a digit" in run.stdout
    assert not home.exists()  # nothing installed, no dotfile written


@pytest.mark.timeout(120)
def test_a_twenty_thousand_step_workflow_is_refused_at_validate_and_run_time(tmp_path: Path) -> None:
    steps = [{"id": f"s{i}", "target": "test", "action": "noop"} for i in range(20_000)]
    path = _write(tmp_path, "big.json", {"id": "big", "name": "Big", "steps": steps})
    run = wfo("validate", str(path))
    assert run.returncode == 1
    assert f"{path}: steps: 20,000 steps; a workflow may have at most {MAX_STEPS:,}" in run.stdout
    home = tmp_path / "home"
    run = wfo("run", str(path), "--json", "--no-progress", home=home)
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert payload["success"] is False
    assert [e["location"] for e in payload["errors"]] == ["steps"]
    assert not home.exists()


def test_a_huge_unknown_key_is_not_echoed(tmp_path: Path) -> None:
    key = "k" * 1_000_000
    path = _write(tmp_path, "w.json", _defn("w", **{key: 1}))
    run = wfo("validate", str(path))
    assert run.returncode == 1
    (line,) = [line for line in run.stdout.splitlines() if "unknown key" in line]
    assert len(line) < len(str(path)) + 200
    assert "unknown key (1,000,000 characters)" in line


def test_timeout_names_its_real_minimum(tmp_path: Path) -> None:
    for value in (-1, 0):
        defn = _defn("w")
        defn["steps"][0]["timeout"] = value
        run = wfo("validate", str(_write(tmp_path, "w.json", defn)))
        assert "steps[0].timeout: must be at least 1 ms (leave timeout out for no time limit)" in run.stdout
        assert "at least 0" not in run.stdout


def test_validate_of_an_empty_path_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "good.json", _defn("good"))  # the current folder holds a valid definition
    run = wfo("validate", "", cwd=tmp_path)
    assert run.returncode == 1
    assert "'': (document): empty path; name a definition file or folder" in run.stdout
    assert "good.json" not in run.stdout + run.stderr


def test_wfo_run_json_prints_json_for_an_invalid_definition(tmp_path: Path) -> None:
    defn = _defn("w")
    defn["steps"][0]["dependOn"] = ["x"]
    path = _write(tmp_path, "w.json", defn)
    run = wfo("run", str(path), "--json", "--no-progress", home=tmp_path / "home")
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert payload["success"] is False and payload["error"].startswith("invalid workflow definition")
    assert payload["errors"][0]["file"] == str(path)
    assert payload["errors"][0]["location"] == "steps[0].dependOn"
    run = wfo("run", str(path), "--json", "--conf", "[1]", home=tmp_path / "home")
    assert run.returncode == 2
    assert "JSON object" in json.loads(run.stdout)["error"]
    assert os.path.exists(path)
