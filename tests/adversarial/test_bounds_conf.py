"""Issue 12, case 12: run conf gets the loader's limits (no NaN/Infinity, a size limit, a nesting
limit, clear messages) on every way in: ``wfo run --conf``, ``execute_workflow`` and a run whose conf
came through Airflow (REST or the form), which the first task checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.definition.conf import ConfError, check_conf, parse_conf_text
from airflow_provider_wfo.definition.rules import MAX_CONF_BYTES, MAX_NESTING

REPO = Path(__file__).resolve().parents[2]
DEFN = {
    "id": "conf-bounds",
    "name": "Conf bounds",
    "steps": [{"id": "a", "action": "do", "target": "test", "params": {"x": "$x"}}],
}


def _deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return root


def _wfo_run(tmp_path: Path, conf: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "conf-bounds.json"
    path.write_text(json.dumps(DEFN))
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", "run", str(path), "--no-progress", "--conf", conf],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "TERM": "dumb", "WFO_HOME": str(tmp_path / "home")},
    )


@pytest.mark.parametrize(
    ("conf", "words"),
    [
        ('{"x": NaN}', "NaN is not a JSON number"),
        ('{"x": [1, -Infinity]}', "-Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, f"nested too deeply (at most {MAX_NESTING} levels)"),
        (json.dumps(_deep(MAX_NESTING + 5)), "nested too deeply at conf.x.x.x"),
        (json.dumps({"x": "y" * (MAX_CONF_BYTES + 1)}), f"at most {MAX_CONF_BYTES:,} bytes"),
    ],
    ids=["nan", "infinity", "deep-text", "deep-object", "large"],
)
def test_wfo_run_conf_gets_the_loader_limits(tmp_path: Path, conf: str, words: str) -> None:
    arg = conf
    if len(conf) > 100_000:  # too long for one argument: pass it as @file, as a user would
        (tmp_path / "conf.json").write_text(conf)
        arg = f"@{tmp_path / 'conf.json'}"
    run = _wfo_run(tmp_path, arg)
    assert run.returncode == 2, run.stdout + run.stderr
    assert words in run.stderr and run.stderr.startswith("wfo: error: --conf")
    assert "Traceback" not in run.stderr and "RecursionError" not in run.stderr
    assert not (tmp_path / "home").exists()  # refused before anything was prepared


def test_check_conf_is_iterative_and_names_the_place() -> None:
    with pytest.raises(ConfError, match=r"nested too deeply at conf\.x"):
        check_conf(_deep(100_000))
    with pytest.raises(ConfError, match=r"conf\.orders\[1\]\.amount is nan"):
        check_conf({"orders": [{"amount": 1.0}, {"amount": float("nan")}]})
    with pytest.raises(ConfError, match="larger than"):
        check_conf({"rows": ["z" * 1000] * 2000})
    assert parse_conf_text('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


def test_execute_workflow_refuses_bad_initial_context(airflow_db: Path) -> None:
    from airflow_provider_wfo import execute_workflow

    with pytest.raises(ConfError, match=r"the initial context: conf\.x is inf"):
        execute_workflow(DEFN, {"x": float("inf")})


@pytest.mark.timeout(300)
def test_a_run_with_too_large_conf_from_airflow_fails_in_its_first_task(
    run_workflow: Any, wfo_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conf that came through Airflow (REST, the form) was never checked by us: the first task
    checks it, fails without retries, and the reason is the workflow's error."""
    import airflow_provider_wfo.local.runner as runner

    monkeypatch.setattr(runner, "check_conf", lambda *a, **k: None)  # as if triggered through the API
    defn = {**DEFN, "steps": [{**DEFN["steps"][0], "retryCount": 2, "retryDelay": 0}]}
    result = run_workflow(defn, {"x": "y" * (MAX_CONF_BYTES + 1)})
    assert result.success is False
    assert f"the run conf is larger than {MAX_CONF_BYTES:,} bytes as JSON" in (result.error or "")
    assert wfo_calls.read() == []  # the action never ran, and was not retried
    assert run_workflow.last.task_states["a"] == "failed"


def test_a_declared_number_param_refuses_nan_at_trigger_time(tmp_path: Path, airflow_db: Path) -> None:
    """Airflow's task API turns NaN into null, so the task cannot see it: a declared number param
    refuses it where the REST API checks conf (the params dialect's number type)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.exceptions import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    defn = {**DEFN, "params": {"x": {"type": "number", "default": 1}}}
    (tmp_path / "conf-bounds.json").write_text(json.dumps(defn))
    (tmp_path / "load.py").write_text(
        "from airflow_provider_wfo import load_workflow_dags\nload_workflow_dags(globals())\n"
    )
    bag = DagBag(dag_folder=str(tmp_path), bundle_path=tmp_path, bundle_name="test")
    dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags["conf-bounds"]))
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ParamValidationError, match="is not of type 'number'"):
            dag.params.deep_merge({"x": bad}).validate()
    assert dag.params.deep_merge({"x": 2.5}).validate() == {"x": 2.5}
