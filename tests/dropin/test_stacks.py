"""Every stack of this repo ships the loader and the drop-in settings: scripts/demo --ui,
scripts/cluster (also for a --dags folder of only JSON) and docker-compose.yaml."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_wfo.local.stack_settings import DROPIN_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
STEP = {
    "id": "a",
    "action": "send_notification",
    "target": "slack",
    "params": {"channel": "#x", "message": "m"},
}


def _cluster_script() -> Any:
    loader = importlib.machinery.SourceFileLoader(
        "wfo_cluster_script_dropin", str(ROOT / "scripts" / "cluster")
    )
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


def _stack_for(tmp_path: Path, definitions: dict[str, Any]) -> Any:
    """scripts/cluster's home prepared with ``tmp_path/mine`` (these definitions, no loader) as --dags."""
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, defn in definitions.items():
        (mine / name).write_text(json.dumps(defn))
    script = _cluster_script()
    stack = script.Cluster(script.Settings(home=tmp_path / "stack", extra_dags=[mine]))
    stack.prepare_home()
    return stack


def _same(env: dict[str, Any]) -> None:
    for key, value in DROPIN_SETTINGS.items():
        assert str(env.get(key)).lower() == value.lower(), (key, env.get(key), value)


def test_demo_ui_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WFO_"))}
    code = (
        "import json, pathlib; from airflow_provider_wfo.prebuilt.demo import ui_environment; "
        "print(json.dumps(ui_environment(pathlib.Path('.').resolve(), 18123)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "WFO_HOME": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ui = json.loads(out.strip().splitlines()[-1])
    _same(ui)
    assert ui["AIRFLOW__API__HOST"] == "127.0.0.1" and ui["AIRFLOW__API__PORT"] == "18123"
    assert ui["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "dags")
    assert (ROOT / "dags" / "wfo_workflows.py").is_file() and (ROOT / "dags" / "wfo_prebuilt.py").is_file()


def test_cluster_and_compose_environment() -> None:
    script = _cluster_script()
    native = script.Cluster(script.Settings(home=Path("/nonexistent/wfo-dropin-check")))
    _same(native.env())
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    _same(compose["x-airflow-common"]["environment"])
    ports = compose["services"]["airflow-apiserver"]["ports"] + compose["services"]["flower"]["ports"]
    assert all(str(p).startswith("127.0.0.1:") for p in ports), ports


def test_cluster_dags_folder_of_only_json_gets_a_loader(
    tmp_path: Path, airflow_db: Path, capsys: Any
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    mine = tmp_path / "mine"
    stack = _stack_for(tmp_path, {"report.json": {"id": "my_report", "name": "R", "steps": [STEP]}})
    said = capsys.readouterr()
    assert "has no loader .py file" in said.out + said.err and f"wfo init {mine}" in said.out + said.err
    assert [p.name for p in mine.iterdir()] == ["report.json"]  # the user's folder is left untouched
    loaders = [p for p in stack.s.dags.glob("*.py")]
    assert len(loaders) == 1
    bag = DagBag(dag_folder=str(loaders[0]), bundle_path=stack.s.dags, bundle_name="test")
    assert bag.dag_ids == ["my_report"] and bag.import_errors == {}


def test_cluster_dags_folder_with_a_loader_is_used_as_it_is(tmp_path: Path, capsys: Any) -> None:
    from airflow_provider_wfo.cli.init import init_folder

    script = _cluster_script()
    mine = tmp_path / "mine"
    init_folder(mine)
    stack = script.Cluster(script.Settings(home=tmp_path / "stack", extra_dags=[mine]))
    stack.prepare_home()
    assert "has no loader" not in capsys.readouterr().out
    assert list(stack.s.dags.glob("*.py")) == []


def test_dag_factory_is_not_in_the_products_environment() -> None:
    """Its plugin would load in every Airflow process; the benchmark has it in bench/.deps."""
    import importlib.util

    import tomllib

    assert importlib.util.find_spec("dagfactory") is None
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert not any("dag-factory" in req for reqs in extras.values() for req in reqs)
    assert "dag-factory" in (ROOT / "bench" / "deps.py").read_text()


def test_the_readme_names_the_drop_in_settings_the_stacks_use() -> None:
    """The README's Performance paragraph names each setting behind the drop-in latency with the value
    every stack sets (the table above is the stacks' one source)."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    for env_name in (
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL",
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL",
    ):
        _, section, option = env_name.split("__")
        named = f"`[{section.lower()}] {option.lower()}` {DROPIN_SETTINGS[env_name]} s"
        assert named in readme, named


def test_cluster_loads_a_large_folder_of_only_json_with_a_loader_per_500(
    tmp_path: Path, airflow_db: Path, capsys: Any
) -> None:
    """Like `wfo init`: 501 definitions get two stack loaders, each loading its share, together all."""
    stack = _stack_for(
        tmp_path, {f"w{i}.json": {"id": f"w{i}", "name": "W", "steps": [STEP]} for i in range(501)}
    )
    assert "wfo_workflows_1_of_2.py" in capsys.readouterr().err
    loaders = sorted(stack.s.dags.glob("*.py"))
    assert [p.name for p in loaders] == [f"extra0_mine_wfo_workflows_{i}_of_2.py" for i in (1, 2)]
    from airflow.dag_processing.dagbag import DagBag

    bags = [DagBag(dag_folder=str(p), bundle_path=stack.s.dags, bundle_name="t") for p in loaders]
    shares = [set(bag.dag_ids) for bag in bags]
    assert shares[0] and shares[1] and not shares[0] & shares[1]
    assert shares[0] | shares[1] == {f"w{i}" for i in range(501)}
