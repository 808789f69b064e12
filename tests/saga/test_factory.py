"""build_dag: DAG attributes, operator settings, big definitions, cheap parsing, Mermaid."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.params_dialect import DIALECT_ID
from airflow_provider_wfo.factory.dag_factory import DEFAULT_START_DATE, build_dag


def model(data: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(data)


FULL = {
    "id": "full-options",
    "name": "Full options",
    "description": "Every DAG-level option",
    "schedule": "@daily",
    "startDate": "2025-03-01",
    "catchup": True,
    "tags": ["finance"],
    "owner": "accounting",
    "maxActiveRuns": 2,
    "params": {
        "vendor": {"type": "string", "default": "Acme", "description": "Who sent it"},
        "amount": {"type": "number", "minimum": 0, "default": 10},
    },
    "steps": [
        {
            "id": "a",
            "name": "Step A",
            "action": "do",
            "target": "test",
            "params": {"template": "{{ dag_run.conf }}", "ref": "$vendor"},
            "retryCount": 4,
            "retryDelay": 1500,
            "retryBackoff": 2.0,
            "maxRetryDelay": 60000,
            "timeout": 2500,
            "rollback": {
                "action": "undo",
                "target": "test",
                "retryCount": 5,
                "retryDelay": 200,
                "timeout": 900,
            },
        },
        {"id": "b", "action": "do", "target": "gmail", "optional": True},
    ],
}


def test_dag_level_options() -> None:
    dag = build_dag(model(FULL))
    assert dag.dag_id == "full-options"
    assert dag.dag_display_name == "Full options"
    assert dag.description == "Every DAG-level option"
    assert dag.start_date == datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert dag.catchup is True
    assert set(dag.tags) == {"finance", "wfo"}
    assert dag.max_active_runs == 2
    assert dag.params["vendor"] == "Acme"
    # The factory stamps the RE2 params dialect on every schema (issue 12 case 4: linear-time
    # patterns in the api-server's trigger-time check too); the rest is the definition's own.
    amount_schema = dict(dag.params.get_param("amount").schema)
    assert amount_schema.pop("$schema") == DIALECT_ID
    assert amount_schema == {"type": "number", "minimum": 0}
    assert dag.params.get_param("vendor").description == "Who sent it"
    assert "Step A" in (dag.doc_md or "")
    assert all(t.owner == "accounting" for t in dag.tasks)


def test_defaults() -> None:
    dag = build_dag(model({"id": "d", "name": "D", "steps": [{"id": "x", "action": "do", "target": "t"}]}))
    assert dag.start_date == DEFAULT_START_DATE
    assert dag.catchup is False
    assert type(dag.timetable).__name__ == "NullTimetable"  # manual only
    assert "compensate" not in dag.task_group_dict
    # No rollback anywhere: no gate, the result task decides (N+1 tasks).
    assert sorted(dag.task_ids) == ["workflow_result", "x"]
    assert dag.get_task("workflow_result").upstream_task_ids == {"x"}


def test_operator_settings_and_no_jinja() -> None:
    dag = build_dag(model(FULL))
    a = dag.get_task("a")
    assert a.task_display_name == "Step A"
    assert a.retries == 4
    assert a.retry_delay == timedelta(milliseconds=1500)
    assert a.retry_exponential_backoff == 2.0
    assert a.max_retry_delay == timedelta(seconds=60)
    assert a.execution_timeout == timedelta(milliseconds=2500)
    assert a.template_fields == ()
    assert a.wfo_step.params["template"] == "{{ dag_run.conf }}"  # kept verbatim, never rendered
    comp = dag.get_task("compensate.a")
    assert comp.retries == 5
    assert comp.retry_delay == timedelta(milliseconds=200)
    assert comp.execution_timeout == timedelta(milliseconds=900)
    assert comp.template_fields == ()
    b = dag.get_task("b")
    assert b.retries == 0 and b.execution_timeout is None
    for task_id in ("saga_decision", "workflow_result"):
        assert dag.get_task(task_id).template_fields == ()


def test_five_thousand_steps_build_with_reversed_compensation_chain() -> None:
    n = 5000
    steps = [
        {"id": f"s{i}", "action": "do", "target": "test", "params": {"prev": f"$s{i - 1}.value" if i else 0}}
        | ({"rollback": {"action": "undo", "target": "test"}} if i % 2 == 0 else {})
        for i in range(n)
    ]
    dag = build_dag(model({"id": "big", "name": "Big", "steps": steps}))
    assert len(dag.tasks) == n + n // 2 + 2
    assert dag.get_task("s1").upstream_task_ids == {"s0"}
    assert len(dag.get_task("saga_decision").upstream_task_ids) == n
    assert dag.get_task("compensate.s0").upstream_task_ids == {"saga_decision", "compensate.s2"}
    assert dag.get_task("compensate.s4998").upstream_task_ids == {"saga_decision"}
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["workflow_result"]
    dag.check_cycle()


def test_parsing_imports_no_connector_and_touches_no_db(tmp_path: Path, airflow_home: Path) -> None:
    """In a fresh interpreter: loading the repo's dags/ imports no connector module and opens no DB."""
    repo = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(
        f"""
        import sys
        import sqlalchemy.engine
        connects = []
        original = sqlalchemy.engine.Engine.connect
        def spy(self, *a, **k):
            connects.append(1)
            return original(self, *a, **k)
        sqlalchemy.engine.Engine.connect = spy
        from airflow_provider_wfo.factory.loader import load_workflow_dags
        ns = {{}}
        dags = load_workflow_dags(ns, folder={str(repo / "dags" / "workflows")!r})
        assert "process-order" in dags, dags
        # The loader checks built-in steps' params against the connector declarations (pydantic
        # models); no backend, hook or SDK may come with them.
        bad = [m for m in sys.modules if m.startswith(("airflow_provider_wfo.connectors.hooks",
               "airflow_provider_wfo.connectors.doctor", "googleapiclient", "slack_sdk", "notion_client",
               "airflow.providers.google.suite", "airflow.providers.slack.hooks",
               "airflow.providers.http.hooks"))]
        assert not bad, bad
        assert not connects, "DB connection at parse time"
        print("OK")
        """
    )
    env = dict(os.environ)
    env["AIRFLOW_HOME"] = str(tmp_path)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{tmp_path / 'never.db'}"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OK" in done.stdout
    assert not (tmp_path / "never.db").exists() or (tmp_path / "never.db").stat().st_size == 0


def test_mermaid_shows_steps_gate_and_reversed_compensations() -> None:
    from airflow_provider_wfo.local.graph import dag_to_mermaid

    defn = model(
        {
            "id": "m",
            "name": "M",
            "steps": [
                {
                    "id": "a",
                    "name": "First",
                    "action": "do",
                    "target": "test",
                    "rollback": {"action": "undo", "target": "test"},
                },
                {
                    "id": "b",
                    "name": "Second",
                    "action": "do",
                    "target": "test",
                    "rollback": {"action": "undo", "target": "test"},
                },
                {"id": "c", "name": "Notify", "action": "do", "target": "test", "optional": True},
            ],
        }
    )
    text = dag_to_mermaid(build_dag(defn), defn)
    assert text.startswith("flowchart TD")
    assert 't0["First<br/>test.do"]' in text
    assert "t0 --> t1" in text and "t1 --> t2" in text
    assert 'subgraph compensate["compensate' in text
    ids = {line.split("[", 1)[0].strip(): line for line in text.splitlines() if "undo " in line}
    undo_first = next(k for k, v in ids.items() if "undo First" in v)
    undo_second = next(k for k, v in ids.items() if "undo Second" in v)
    assert f"{undo_second} --> {undo_first}" in text
    assert "(optional)" in text


def _shipped_definitions() -> list[Path]:
    repo = Path(__file__).resolve().parents[2]
    found = sorted((repo / "examples" / "seed").glob("*.json"))
    found += sorted((repo / "airflow_provider_wfo" / "prebuilt").glob("*.json"))
    found += sorted((repo / "dags").rglob("*.json"))
    return found


def test_every_shipped_definition_builds_a_saga_dag() -> None:
    from airflow_provider_wfo.definition.loading import load_definition_file
    from airflow_provider_wfo.factory.plan import plan_for as build_plan

    paths = _shipped_definitions()
    assert paths
    for path in paths:
        defn = load_definition_file(path)
        dag = build_dag(defn)
        plan = build_plan(defn)
        forward = {s.id for s in defn.steps}
        assert forward <= set(dag.task_ids), path
        # The decision is made after every forward task: by the gate, or (no rollback) the result task.
        decider = "saga_decision" if plan.rollback else "workflow_result"
        assert dag.get_task(decider).upstream_task_ids == forward, path
        assert ("saga_decision" in dag.task_ids) == bool(plan.rollback), path
        assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["workflow_result"], path
        for step_id in plan.rollback:
            comp = dag.get_task(f"compensate.{step_id}")
            later = {f"compensate.{t}" for t in plan.compensation_upstream[step_id]}
            assert comp.upstream_task_ids == {"saga_decision"} | later, path
        dag.check_cycle()
