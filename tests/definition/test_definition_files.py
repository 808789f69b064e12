"""The one listing of definition files (``definition/files.py``), as ``wfo validate`` and the loader meet it.

Issue 12 case 10: a FIFO named ``pipe.json`` made ``wfo validate FOLDER`` hang forever on the read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_wfo.definition.files import definition_files
from airflow_provider_wfo.definition.loading import DefinitionError, load_definition_file

REPO = Path(__file__).resolve().parents[2]
GOOD = {"id": "good", "name": "Good", "steps": [{"id": "a", "action": "create_task", "target": "tasks"}]}


def wfo(*args: str) -> subprocess.CompletedProcess[str]:
    # The timeout is the hang detector: the old code blocked in open() on the FIFO.
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80", "TERM": "dumb"},
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    os.mkfifo(tmp_path / "pipe.json")
    return tmp_path


def test_validate_folder_skips_a_fifo_with_a_message(folder: Path) -> None:
    run = wfo("validate", str(folder))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{folder / 'good.json'}: ok" in run.stdout
    skipped = f"wfo: warning: {folder / 'pipe.json'}: skipped: a FIFO (named pipe), not a regular file"
    assert skipped in run.stderr
    assert "Traceback" not in run.stderr


def test_validate_a_fifo_named_directly_is_refused_not_waited_on(folder: Path) -> None:
    run = wfo("validate", "--format", "json", str(folder / "pipe.json"))
    assert run.returncode == 1
    assert json.loads(run.stdout) == [
        {
            "file": str(folder / "pipe.json"),
            "location": "(document)",
            "message": "a FIFO (named pipe), not a regular file",
        }
    ]


def test_load_definition_file_refuses_a_fifo(folder: Path) -> None:
    with pytest.raises(DefinitionError, match="a FIFO"):
        load_definition_file(folder / "pipe.json")


def test_listing_skips_hidden_entries_tool_folders_and_broken_links(folder: Path) -> None:
    for hidden in (".hidden.json", ".git/x.json", "__pycache__/y.json", "sub/.z.yaml"):
        (folder / hidden).parent.mkdir(parents=True, exist_ok=True)
        (folder / hidden).write_text("{}")
    (folder / "sub" / "b.YML").write_text("{}")
    (folder / "sub" / "notes.txt").write_text("")
    (folder / "dangling.json").symlink_to(folder / "nowhere.json")
    (folder / "linked.json").symlink_to(folder / "good.json")
    (folder / "loop").symlink_to(folder)  # a link to a folder is not descended: no endless walk
    skipped: list[tuple[Path, str]] = []
    found = definition_files(folder, on_skip=lambda path, reason: skipped.append((path, reason)))
    assert found == [folder / "good.json", folder / "linked.json", folder / "sub" / "b.YML"]
    assert sorted(skipped) == [
        (folder / "dangling.json", "skipped: a broken link"),
        (folder / "pipe.json", "skipped: a FIFO (named pipe), not a regular file"),
    ]


def test_loader_uses_the_same_listing(
    folder: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_wfo.factory.loader import load_workflow_dags

    namespace: dict[str, object] = {}
    dags = load_workflow_dags(namespace, folder=folder)
    assert list(dags) == ["good"]
    # Airflow's structlog may print the warning instead of handing it to logging.
    assert "pipe.json: skipped: a FIFO" in caplog.text + capsys.readouterr().out
