"""``wfo validate`` and ``wfo schema``, run as a user runs them (subprocess), plus the subcommand hook."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import airflow_provider_wfo.cli as cli
from airflow_provider_wfo.definition.schema import SCHEMA_PATH

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed"
BROKEN = REPO / "examples" / "broken"
LINE = re.compile(r"^(?P<file>[^:]+): (?P<location>(line \d+, column \d+)|[^:]+): (?P<message>.+)$")


def wfo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80", "TERM": "dumb"},
    )


def test_validate_valid_folder_exits_0() -> None:
    run = wfo("validate", str(SEED))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(": ok") == len(list(SEED.glob("*.json")))
    assert "Traceback" not in run.stderr


def test_validate_broken_corpus_prints_file_location_message_and_exits_1() -> None:
    run = wfo("validate", "--quiet", str(BROKEN))
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    reported = set()
    for line in lines:
        match = LINE.match(line)
        assert match, line
        reported.add(Path(match["file"]).name)
    cases = [line.split("\t") for line in (BROKEN / "cases.tsv").read_text().splitlines()]
    assert reported == {name for name, _, _ in cases}
    for name, location, _ in cases:
        assert f"{BROKEN / name}: {location}: " in run.stdout
    assert "invalid" in run.stderr


def test_validate_mixed_files_and_missing_paths(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x00\xff{{{{ : :")
    run = wfo("validate", str(SEED / "process-order.json"), str(garbage), str(tmp_path / "nope.json"))
    assert run.returncode == 1
    assert f"{SEED / 'process-order.json'}: ok" in run.stdout
    assert f"{garbage}: (document): " in run.stdout
    assert f"{tmp_path / 'nope.json'}: (document): no such file or folder" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_validate_json_output() -> None:
    run = wfo("validate", "--format", "json", str(BROKEN / "unknown-key.json"))
    assert run.returncode == 1
    assert json.loads(run.stdout) == [
        {
            "file": str(BROKEN / "unknown-key.json"),
            "location": "steps[1].dependOn",
            "message": "unknown key 'dependOn'; did you mean 'dependsOn'?",
        }
    ]


def test_schema_prints_the_committed_schema() -> None:
    run = wfo("schema")
    assert run.returncode == 0
    assert run.stdout == SCHEMA_PATH.read_text(encoding="utf-8")


def test_usage_errors_exit_2() -> None:
    assert wfo("validate").returncode == 2
    assert wfo().returncode == 2
    assert wfo("--version").stdout.startswith("wfo ")


def test_validate_and_schema_do_not_import_airflow() -> None:
    code = (
        "import sys\n"
        "from airflow_provider_wfo.cli import main\n"
        f"assert main(['validate', '-q', {str(SEED)!r}]) == 0\n"
        "assert main(['schema', '-o', '/dev/null']) == 0\n"
        "loaded = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]\n"
        "assert not loaded, loaded\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def _fake(monkeypatch: pytest.MonkeyPatch, name: str, add_parser: object) -> None:
    module = types.ModuleType(f"airflow_provider_wfo.cli.{name}")
    module.add_parser = add_parser  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, name))


def test_hook_adds_subcommands_and_contains_their_failures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def add_hello(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = subparsers.add_parser("hello")
        parser.add_argument("who")
        parser.set_defaults(handler=lambda args: 0 if args.who == "world" else 3)

    def add_crash(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = subparsers.add_parser("crash")
        parser.set_defaults(handler=lambda args: 1 / 0)

    def add_broken(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        raise RuntimeError("half written")

    _fake(monkeypatch, "hello", add_hello)
    _fake(monkeypatch, "crash", add_crash)
    _fake(monkeypatch, "broken", add_broken)
    monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "not_written_yet"))
    assert cli.main(["hello", "world"]) == 0
    assert cli.main(["hello", "moon"]) == 3
    assert cli.main(["crash"]) == 2
    assert cli.main(["broken"]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "Traceback" not in err
    assert "'wfo broken' is unavailable (RuntimeError: half written)" in err
    with pytest.raises(SystemExit):
        cli.main(["not_written_yet"])
