"""``wfo run`` and ``wfo graph`` in-process (the test actions are registered here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.cli import main


def _write(tmp_path: Path, defn: dict[str, Any]) -> Path:
    path = tmp_path / f"{defn['id']}.json"
    path.write_text(json.dumps(defn))
    return path


@pytest.mark.slow
def test_wfo_run_json_and_summary(tmp_path: Path, run_workflow: Any, wfo_calls: Any, capfd: Any) -> None:
    ok = _write(
        tmp_path,
        {
            "id": "cli-ok",
            "name": "CLI ok",
            "steps": [{"id": "a", "action": "do", "target": "test", "params": {"who": "$who"}}],
        },
    )
    assert main(["run", str(ok), "--conf", '{"who": "me"}', "--json"]) == 0
    out = capfd.readouterr().out
    result = json.loads(out)
    assert result["status"] == "COMPLETED" and result["success"] is True
    assert result["steps"][0]["result"]["data"]["echo"] == {"who": "me"}
    assert "[DAG TEST]" not in out  # Airflow's output went to the log file

    bad = _write(
        tmp_path,
        {
            "id": "cli-bad",
            "name": "CLI bad",
            "steps": [
                {
                    "id": "a",
                    "name": "Make it",
                    "action": "do",
                    "target": "test",
                    "rollback": {"action": "undo", "target": "test", "retryDelay": 0},
                },
                {
                    "id": "b",
                    "name": "Break it",
                    "action": "do",
                    "target": "test",
                    "params": {"fail": "fatal"},
                },
            ],
        },
    )
    assert main(["run", str(bad), "--no-progress"]) == 1
    text = capfd.readouterr().out
    assert "ROLLED BACK" in text
    assert "Break it" in text and "planned non-retryable failure" in text
    assert "rolled back: Make it" in text
    assert "Airflow log:" in text


def test_wfo_run_rejects_bad_conf(tmp_path: Path, capfd: Any) -> None:
    path = _write(
        tmp_path, {"id": "x", "name": "X", "steps": [{"id": "a", "action": "do", "target": "test"}]}
    )
    assert main(["run", str(path), "--conf", "[1, 2]"]) == 2
    assert "JSON object" in capfd.readouterr().err


def test_wfo_graph_prints_mermaid(capfd: Any) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert main(["graph", str(repo / "dags" / "workflows" / "process_order.json"), "--fenced"]) == 0
    out = capfd.readouterr().out
    assert out.startswith("```mermaid\nflowchart TD")
    assert "undo Create Order File" in out and "saga_decision" in out
