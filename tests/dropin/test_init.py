"""`wfo init DIR`: a folder of only JSON becomes a dags folder (the loader file is written next to the
definitions); an existing loader is left alone; --shards splits the folder over loader files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.cli import main

STEP = {
    "id": "a",
    "action": "send_notification",
    "target": "slack",
    "params": {"channel": "#x", "message": "m"},
}


def _defn(i: int) -> str:
    return json.dumps({"id": f"wf{i}", "name": f"W{i}", "steps": [STEP]})


def _dagbag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="test")


def test_a_folder_of_only_json_loads_after_init(
    tmp_path: Path, airflow_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "weekly.json").write_text(_defn(1))
    assert _dagbag(tmp_path).dag_ids == []  # Airflow reads only .py files
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "wfo_workflows.py" in out and "1 workflow definition(s)" in out
    bag = _dagbag(tmp_path)
    assert bag.dag_ids == ["wf1"] and bag.import_errors == {}

    assert main(["init", str(tmp_path)]) == 0
    assert "already has a loader (wfo_workflows.py); nothing written" in capsys.readouterr().out


def test_shards_split_and_force_replaces_them(tmp_path: Path, airflow_db: Path) -> None:
    for i in range(9):
        (tmp_path / f"wf{i}.json").write_text(_defn(i))
    assert main(["init", str(tmp_path), "--shards", "3"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.py")) == [
        "wfo_workflows_1_of_3.py",
        "wfo_workflows_2_of_3.py",
        "wfo_workflows_3_of_3.py",
    ]
    bag = _dagbag(tmp_path)
    assert sorted(bag.dag_ids) == [f"wf{i}" for i in range(9)] and bag.import_errors == {}
    files = {bag.get_dag(d).fileloc for d in bag.dag_ids}
    assert len(files) > 1  # really spread over the loader files

    assert main(["init", str(tmp_path), "--force", "--shards", "2"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.py")) == [
        "wfo_workflows_1_of_2.py",
        "wfo_workflows_2_of_2.py",
    ]
    assert sorted(_dagbag(tmp_path).dag_ids) == [f"wf{i}" for i in range(9)]


def test_a_hand_written_loader_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "my_dags.py"
    mine.write_text("from airflow_provider_wfo import load_workflow_dags\nload_workflow_dags(globals())\n")
    assert main(["init", str(tmp_path), "--force", "--shards", "2"]) == 0
    assert "written by hand" in capsys.readouterr().out
    assert [p.name for p in tmp_path.glob("*.py")] == ["my_dags.py"]


def test_bad_shard_count_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path), "--shards", "0"]) == 1
    assert "--shards must be at least 1" in capsys.readouterr().err


def test_without_shards_a_large_folder_gets_a_loader_per_500_definitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No single import timeout decides them all, without the user knowing the flag: 1,001
    definitions get three loader files; asking for fewer prints the count that fits."""
    from airflow_provider_wfo.cli.init import SHARD_SIZE, shards_for

    assert SHARD_SIZE == 500 and shards_for(0) == 1 and shards_for(500) == 1 and shards_for(501) == 2
    for i in range(2 * SHARD_SIZE + 1):
        (tmp_path / f"wf{i}.json").write_text(_defn(i))
    assert main(["init", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.py")) == [f"wfo_workflows_{i}_of_3.py" for i in (1, 2, 3)]
    assert "hint" not in capsys.readouterr().out
    assert main(["init", str(tmp_path), "--force", "--shards", "1"]) == 0
    assert f"wfo init {tmp_path} --force --shards 3" in capsys.readouterr().out
