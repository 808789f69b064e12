"""The DAG files in dags/ parse cleanly and have the saga's shape; broken definitions are visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"

LOADER = "from airflow_provider_wfo import load_workflow_dags\n\nload_workflow_dags(globals())\n"


def _dagbag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="test")


def _edges(dag: Any) -> set[tuple[str, str]]:
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


@pytest.fixture(scope="module")
def repo_dagbag(airflow_db: Path) -> Any:
    return _dagbag(DAGS)


def test_no_import_errors(repo_dagbag: Any) -> None:
    assert repo_dagbag.import_errors == {}
    assert {"process-order", "onboard-employee"} <= set(repo_dagbag.dag_ids)


def test_process_order_shape(repo_dagbag: Any) -> None:
    dag = repo_dagbag.get_dag("process-order")
    forward = ["create-order", "log-order", "notify-customer"]
    assert set(dag.task_ids) == {
        *forward,
        "saga_decision",
        "compensate.create-order",
        "compensate.log-order",
        "workflow_result",
    }
    edges = _edges(dag)
    assert ("create-order", "log-order") in edges
    assert ("log-order", "notify-customer") in edges
    assert {("saga_decision", f"compensate.{s}") for s in ("create-order", "log-order")} <= edges
    assert {(f, "saga_decision") for f in forward} <= edges
    # reversed: the later step is undone first
    assert ("compensate.log-order", "compensate.create-order") in edges
    assert ("compensate.create-order", "compensate.log-order") not in edges
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["workflow_result"]
    assert {"wfo", "example", "orders"} <= set(dag.tags)
    assert dag.params["orderId"] == "ORD-2025-001"
    step = dag.get_task("create-order")
    assert step.retries == 2
    assert step.execution_timeout.total_seconds() == 30
    assert step.template_fields == ()
    assert step.trigger_rule == "all_success"
    assert dag.get_task("saga_decision").trigger_rule == "all_done"
    assert dag.get_task("compensate.create-order").trigger_rule == "all_done"
    assert dag.get_task("compensate.create-order").retries == 3
    assert dag.get_task("workflow_result").trigger_rule == "all_done"


def test_parallel_example_compensation_edges(repo_dagbag: Any) -> None:
    dag = repo_dagbag.get_dag("onboard-employee")
    edges = _edges(dag)
    assert ("step-1", "step-2") in edges and ("step-1", "step-3") in edges
    assert ("step-2", "step-3") not in edges
    assert ("compensate.step-3", "compensate.step-1") in edges
    assert "compensate.step-2" not in dag.task_ids


def test_broken_definition_is_a_placeholder_and_good_ones_load(tmp_path: Path, airflow_db: Path) -> None:
    (tmp_path / "wfo_loader.py").write_text(LOADER)
    good = {"id": "good-one", "name": "Good", "steps": [{"id": "a", "action": "do", "target": "test"}]}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "also_good.yaml").write_text(
        "id: also-good\nname: Also good\nsteps:\n  - id: a\n    action: do\n    target: test\n"
    )
    (tmp_path / "typo.json").write_text(
        json.dumps(
            {"id": "typo", "name": "T", "steps": [{"id": "a", "action": "x", "target": "y", "dependOn": []}]}
        )
    )
    (tmp_path / "syntax.json").write_text('{"id": "syntax", "name": "S",\n "steps": [}')
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "ignored.json").write_text("not json at all")

    bag = _dagbag(tmp_path)

    # No import error: Airflow would mark every DAG of the loader file stale.
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"good-one", "also-good", "typo", "wfo_broken.syntax.json"}
    typo = bag.get_dag("typo")
    assert set(typo.tags) == {"wfo-broken"}
    assert typo.schedule is None
    assert typo.description.startswith("typo.json: steps[0]") and "dependOn" in typo.description
    assert [t.task_id for t in typo.tasks] == ["definition_error"]
    syntax = bag.get_dag("wfo_broken.syntax.json")
    assert "syntax.json: line 2, column 12" in syntax.description  # the syntax error says where
    assert not any("ignored" in (d.description or "") for d in bag.dags.values())


def test_placeholder_task_fails_with_the_problem(tmp_path: Path, airflow_db: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    (tmp_path / "wfo_loader.py").write_text(LOADER)
    (tmp_path / "typo.json").write_text(json.dumps({"id": "typo", "name": "T", "steps": []}))
    task = _dagbag(tmp_path).get_dag("typo").get_task("definition_error")
    with pytest.raises(AirflowFailException, match=r"typo\.json: steps"):
        task.execute({})


def test_duplicate_id_gets_a_path_placeholder(tmp_path: Path, airflow_db: Path) -> None:
    (tmp_path / "wfo_loader.py").write_text(LOADER)
    good = {"id": "same", "name": "A", "steps": [{"id": "a", "action": "do", "target": "test"}]}
    (tmp_path / "a.json").write_text(json.dumps(good))
    (tmp_path / "b.json").write_text(json.dumps({**good, "name": "B"}))
    bag = _dagbag(tmp_path)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"same", "wfo_broken.b.json"}
    assert "already used by" in bag.get_dag("wfo_broken.b.json").description


def test_shards_split_the_folder_without_overlap(tmp_path: Path, airflow_db: Path) -> None:
    from airflow_provider_wfo.factory.loader import load_workflow_dags

    for i in range(12):
        defn = {"id": f"wf{i}", "name": "W", "steps": [{"id": "a", "action": "do", "target": "test"}]}
        (tmp_path / f"wf{i}.json").write_text(json.dumps(defn))
    parts = [set(load_workflow_dags({}, folder=tmp_path, shard=(i, 3))) for i in (1, 2, 3)]
    assert set().union(*parts) == {f"wf{i}" for i in range(12)}
    assert sum(len(p) for p in parts) == 12
    with pytest.raises(ValueError, match="shard"):
        load_workflow_dags({}, folder=tmp_path, shard=(4, 3))


def test_slow_definition_costs_only_itself(
    tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A definition that does not finish within [wfo] definition_parse_timeout becomes a placeholder;
    the next one still loads (the slowness is simulated in the reader, the budget is real)."""
    import time

    from airflow_provider_wfo.definition import loading
    from airflow_provider_wfo.factory.loader import load_workflow_dags

    monkeypatch.setenv("AIRFLOW__WFO__DEFINITION_PARSE_TIMEOUT", "0.5")
    real = loading.read_definition_data

    def slow_for_one(path: Any) -> Any:
        if Path(path).name == "a_slow.json":
            time.sleep(30)
        return real(path)

    monkeypatch.setattr(loading, "read_definition_data", slow_for_one)
    for name in ("a_slow", "b_fine"):
        defn = {"id": name, "name": "W", "steps": [{"id": "a", "action": "do", "target": "test"}]}
        (tmp_path / f"{name}.json").write_text(json.dumps(defn))
    dags = load_workflow_dags({}, folder=tmp_path)
    assert set(dags) == {"wfo_broken.a_slow.json", "b_fine"}
    assert "took longer than 0.5 s" in (dags["wfo_broken.a_slow.json"].description or "")


def test_near_the_file_timeout_the_rest_become_placeholders(tmp_path: Path, airflow_db: Path) -> None:
    """When Airflow's own import alarm (dagbag_import_timeout) is about to fire, the loader stops
    starting definitions and lets the file finish; Airflow's alarm is left as it was."""
    import signal

    from airflow_provider_wfo.factory.loader import load_workflow_dags

    for name in ("one", "two"):
        defn = {"id": name, "name": "W", "steps": [{"id": "a", "action": "do", "target": "test"}]}
        (tmp_path / f"{name}.json").write_text(json.dumps(defn))
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)  # less than the loader's margin is left
        dags = load_workflow_dags({}, folder=tmp_path)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # Airflow's alarm still runs
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert set(dags) == {"wfo_broken.one.json", "wfo_broken.two.json"}
    assert "used up its time budget" in (dags["wfo_broken.one.json"].description or "")


def test_the_loader_leaves_airflow_time_to_serialize(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader stops building at the earlier of Airflow's import alarm (less its margin) and
    BUILD_SHARE of dag_file_processor_timeout since that alarm was set: after the import, the same
    process serializes every DAG, and the manager kills a parse process past that timeout with
    nothing of its file written."""
    import signal
    import time

    from airflow_provider_wfo.factory.budget import BUILD_SHARE, FILE_MARGIN_S, file_deadline

    outer = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's own alarm, put back at the end
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0)
        assert file_deadline((30.0, 50.0)) is None  # no alarm: not parsed by Airflow
        signal.setitimer(signal.ITIMER_REAL, 30.0)  # the alarm as Airflow sets it, just now
        left = (file_deadline((30.0, 50.0)) or 0.0) - time.monotonic()
        assert left == pytest.approx(BUILD_SHARE * 50.0, abs=0.5)  # 22.5 s, before the 28 s alarm
        left = (file_deadline((30.0, 600.0)) or 0.0) - time.monotonic()
        assert left == pytest.approx(30.0 - FILE_MARGIN_S, abs=0.5)  # a long processor timeout: the alarm
        signal.setitimer(signal.ITIMER_REAL, 10.0)  # 20 s of the import gone
        left = (file_deadline((30.0, 50.0)) or 0.0) - time.monotonic()
        assert left == pytest.approx(BUILD_SHARE * 50.0 - 20.0, abs=0.5)
    finally:
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *outer)


def test_past_the_serialization_share_the_rest_become_placeholders(
    tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plenty of import alarm left, but the processor timeout's share for building is gone: the
    definitions become placeholders that name both timeouts and the fix."""
    import signal

    from airflow_provider_wfo.factory.loader import load_workflow_dags

    monkeypatch.setenv("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "30")
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT", "20")
    for name in ("one", "two"):
        defn = {"id": name, "name": "W", "steps": [{"id": "a", "action": "do", "target": "test"}]}
        (tmp_path / f"{name}.json").write_text(json.dumps(defn))
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 20.0)  # 10 s of the import gone: 0.45 * 20 s - 10 s < 0
        dags = load_workflow_dags({}, folder=tmp_path)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert set(dags) == {"wfo_broken.one.json", "wfo_broken.two.json"}
    description = dags["wfo_broken.one.json"].description or ""
    assert "dag_file_processor_timeout" in description
    assert "wfo init DIR --force --shards N" in description


def test_a_loader_near_its_budget_says_how_many_files_to_use(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_wfo.factory import loader

    with caplog.at_level("WARNING", logger=loader.log.name):
        loader._warn_if_near_budget(4.0, 20.0, 400, None)  # a fifth of the budget: quiet
        assert not caplog.records
        loader._warn_if_near_budget(18.0, 20.0, 1000, (2, 3))
    (record,) = caplog.records
    # 3 files at 18 s of 20: 6 files keep each under half of its budget
    assert "took 18.0 s of the 20.0 s" in record.getMessage()
    assert "wfo init DIR --force --shards 6" in record.getMessage()
