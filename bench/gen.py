"""Generated inputs: the same task graphs three ways.

* ``ours``: workflow definitions (JSON) plus the two-line loader file a data team copies.
* ``hand``: one Python DAG file written out statement by statement, the way a person writes a DAG
  (no loop, no factory): plain ``PythonOperator`` / ``BranchPythonOperator`` tasks, the
  ``compensate`` TaskGroup with the compensations and their reversed edges, the gate and the result,
  with the same trigger rules, retries and timeouts as the generated DAG.
* ``hand_min`` / ``hand_empty``: the same file with a trivial BaseOperator subclass / Airflow's
  ``EmptyOperator`` for every task (the cheapest tasks Airflow has: what the graph itself costs).
* ``dagfactory``: astronomer's dag-factory YAML (one file per definition) for the forward-only graph.

The graph shape (upstreams, compensation order) is computed once here with the provider's own pure
planning code, so all sides describe exactly the same graph; the files written are plain data / code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOADER_SOURCE = (
    '"""Every workflow definition next to this file becomes an Airflow DAG."""\n'
    "from airflow_provider_wfo import load_workflow_dags\n\n"
    "load_workflow_dags(globals())\n"
)

DAGFACTORY_LOADER_SOURCE = (
    '"""Every dag-factory YAML next to this file becomes an Airflow DAG."""\n'
    "from pathlib import Path\n\n"
    "from dagfactory import load_yaml_dags\n\n"
    "load_yaml_dags(\n"
    "    globals_dict=globals(), dags_folder=str(Path(__file__).parent), defaults_config_dict={}\n"
    ")\n"
)

#: Importable module (on PYTHONPATH of the children) with the callables the dag-factory YAML names.
LIB_MODULE = "bench_lib"
LIB_SOURCE = '''"""Callables used by the benchmark DAGs that are not written by hand (dag-factory)."""


def run_step(**kwargs):
    return {"value": kwargs.get("index")}
'''

STEP_RETRIES = 2
STEP_RETRY_DELAY_MS = 1000
STEP_TIMEOUT_MS = 60000


def step_id(j: int) -> str:
    return f"s{j:04d}"


def definition(index: int, steps: int, rollback_every: int, prefix: str = "bench_wf") -> dict[str, Any]:
    """One workflow definition: ``steps`` steps; every ``rollback_every``-th step (0 = none) declares a
    rollback. Steps run in sequence (the default ordering), except that every fifth step after the first
    fans out from two earlier steps, so the graph is not a bare chain."""
    out: list[dict[str, Any]] = []
    for j in range(steps):
        sid = step_id(j)
        params: dict[str, Any] = {"index": j, "label": f"step {j} of workflow {index}"}
        if j:
            params["input"] = f"${step_id(j - 1)}.value"
        step: dict[str, Any] = {
            "id": sid,
            "name": f"Step {j}",
            "action": "noop",
            "target": "bench",
            "params": params,
            "retryCount": STEP_RETRIES,
            "retryDelay": STEP_RETRY_DELAY_MS,
            "timeout": STEP_TIMEOUT_MS,
        }
        if j >= 2 and j % 5 == 0:
            step["dependsOn"] = [step_id(j - 1), step_id(j - 2)]
        if rollback_every and j % rollback_every == 0:
            step["rollback"] = {"action": "undo", "target": "bench", "params": {"id": f"${sid}.value"}}
        out.append(step)
    return {
        "id": f"{prefix}_{index:05d}",
        "name": f"Benchmark workflow {index}",
        "description": "generated for bench/",
        "rollbackOnFailure": True,
        "steps": out,
    }


def parse_set(n: int, k: int) -> list[dict[str, Any]]:
    """N definitions of K steps; half of them (even index) declare a rollback on every step."""
    return [definition(i, k, rollback_every=1 if i % 2 == 0 else 0) for i in range(n)]


def single_set(k: int) -> list[dict[str, Any]]:
    """One definition of K steps, half of its steps with a rollback."""
    return [definition(0, k, rollback_every=2)]


@dataclass
class Graph:
    dag_id: str
    steps: list[dict[str, Any]]
    upstream: dict[str, tuple[str, ...]]
    rollback: list[str]
    compensation_upstream: dict[str, tuple[str, ...]]


def graph(defn: dict[str, Any]) -> Graph:
    from airflow_provider_wfo.definition.models import WorkflowDefinition
    from airflow_provider_wfo.factory.plan import plan_for as build_plan

    plan = build_plan(WorkflowDefinition.model_validate(defn))
    rollback = [s["id"] for s in defn["steps"] if s.get("rollback")]
    return Graph(
        dag_id=defn["id"],
        steps=defn["steps"],
        upstream={k: tuple(v) for k, v in plan.upstream.items()},
        rollback=rollback,
        compensation_upstream={k: tuple(v) for k, v in plan.compensation_upstream.items()},
    )


def _var(sid: str) -> str:
    return "t_" + sid


HAND_HEADER = '''"""Hand-written DAGs: the same task graphs as the generated saga DAGs, plain operators."""
from datetime import datetime, timedelta, timezone

from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
from airflow.sdk import DAG, TaskGroup, TriggerRule

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def run_step(**kwargs):
    return {"value": kwargs.get("index")}


def undo_step(**kwargs):
    return {}


def decide(**kwargs):
    return ["workflow_result"]


def result(**kwargs):
    return {"status": "COMPLETED"}

'''


HAND_MIN_HEADER = '''"""Hand-written DAGs, the cheapest kind: every task a trivial BaseOperator."""
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, BaseOperator, TaskGroup, TriggerRule

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


class Step(BaseOperator):
    def execute(self, context):
        return None

'''


HAND_EMPTY_HEADER = '''"""Hand-written DAGs with Airflow's own no-op operator: every task an EmptyOperator."""
from datetime import datetime, timedelta, timezone

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, TriggerRule

START = datetime(2024, 1, 1, tzinfo=timezone.utc)

'''

#: How each hand-written kind constructs its tasks: (step operator, branch operator, with callables).
KINDS = {
    "python": ("PythonOperator(", "BranchPythonOperator(", True),
    "min": ("Step(", "Step(", False),
    "empty": ("EmptyOperator(", "EmptyOperator(", False),
}
HEADERS = {"python": HAND_HEADER, "min": HAND_MIN_HEADER, "empty": HAND_EMPTY_HEADER}


def hand_dag_source(g: Graph, number: int, kind: str = "python") -> str:
    """One DAG written out statement by statement: ``python`` (PythonOperator and the branch operator),
    ``min`` (a trivial BaseOperator subclass) or ``empty`` (EmptyOperator) for every task. The shape is
    the generated one: the gate and the compensations only when some step has a rollback (N+1 tasks
    otherwise, ``workflow_result`` after every step)."""
    name = f"dag_{number}"
    py, branch, callables = KINDS[kind]

    def call(fn: str, kwargs: Any = None) -> str:
        if not callables:
            return ""
        return f"python_callable={fn}, " + (f"op_kwargs={kwargs!r}, " if kwargs is not None else "")

    lines = [
        "",
        f"with DAG(dag_id={g.dag_id!r}, schedule=None, start_date=START, catchup=False, "
        f"tags=['bench'], default_args={{'owner': 'wfo'}}) as {name}:",
    ]
    for step in g.steps:
        sid = step["id"]
        lines.append(
            f"    {_var(sid)} = {py}task_id={sid!r}, {call('run_step', step['params'])}"
            f"retries={STEP_RETRIES}, "
            f"retry_delay=timedelta(milliseconds={STEP_RETRY_DELAY_MS}), "
            f"execution_timeout=timedelta(milliseconds={STEP_TIMEOUT_MS}), "
            "trigger_rule=TriggerRule.ALL_SUCCESS)"
        )
    for sid, parents in g.upstream.items():
        if parents:
            lines.append(f"    [{', '.join(_var(p) for p in parents)}] >> {_var(sid)}")
    lines.append(
        f"    done = {py}task_id='workflow_result', {call('result')}trigger_rule=TriggerRule.ALL_DONE)"
    )
    forward = ", ".join(_var(s["id"]) for s in g.steps)
    if not g.rollback:
        lines.append(f"    [{forward}] >> done")
        return "\n".join(lines) + "\n"
    lines.append(
        f"    gate = {branch}task_id='saga_decision', {call('decide')}"
        "trigger_rule=TriggerRule.ALL_DONE, retries=1)"
    )
    lines.append(f"    [{forward}] >> gate")
    lines.append("    with TaskGroup('compensate'):")
    for sid in g.rollback:
        step = next(s for s in g.steps if s["id"] == sid)
        lines.append(
            f"        c_{sid} = {py}task_id={sid!r}, {call('undo_step', step['rollback']['params'])}"
            "retries=3, retry_delay=timedelta(seconds=1), "
            "trigger_rule=TriggerRule.ALL_DONE)"
        )
    for sid, after in g.compensation_upstream.items():
        if after:
            lines.append(f"    [{', '.join('c_' + t for t in after)}] >> c_{sid}")
    comps = ", ".join("c_" + s for s in g.rollback)
    lines.append(f"    gate >> [{comps}]")
    lines.append(f"    [{comps}] >> done")
    lines.append("    gate >> done")
    return "\n".join(lines) + "\n"


EMPTY_LOOP_SOURCE = '''"""The same task graphs, built in a loop from graphs.json with Airflow's EmptyOperator:
the cheapest way Airflow has to make these DAGs (one small file, as a DAG factory is)."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, TriggerRule

START = datetime(2024, 1, 1, tzinfo=timezone.utc)

for g in json.loads((Path(__file__).parent / "graphs.json").read_text()):
    with DAG(dag_id=g["dag_id"], schedule=None, start_date=START, catchup=False, tags=["bench"],
             default_args={"owner": "wfo"}):
        step = {
            sid: EmptyOperator(task_id=sid, retries=RETRIES, retry_delay=timedelta(milliseconds=DELAY),
                               execution_timeout=timedelta(milliseconds=TIMEOUT),
                               trigger_rule=TriggerRule.ALL_SUCCESS)
            for sid in g["steps"]
        }
        for sid, parents in g["upstream"].items():
            for parent in parents:
                step[parent] >> step[sid]
        done = EmptyOperator(task_id="workflow_result", trigger_rule=TriggerRule.ALL_DONE)
        if not g["rollback"]:
            for task in step.values():
                task >> done
            continue
        gate = EmptyOperator(task_id="saga_decision", trigger_rule=TriggerRule.ALL_DONE, retries=1)
        for task in step.values():
            task >> gate
        with TaskGroup("compensate"):
            undo = {
                sid: EmptyOperator(task_id=sid, retries=3, retry_delay=timedelta(seconds=1),
                                   trigger_rule=TriggerRule.ALL_DONE)
                for sid in g["rollback"]
            }
        for sid, after in g["compensation_upstream"].items():
            for earlier in after:
                undo[earlier] >> undo[sid]
        for task in undo.values():
            gate >> task
            task >> done
        gate >> done
'''
_SETTINGS = {"RETRIES": STEP_RETRIES, "DELAY": STEP_RETRY_DELAY_MS, "TIMEOUT": STEP_TIMEOUT_MS}
for _name, _value in _SETTINGS.items():
    EMPTY_LOOP_SOURCE = EMPTY_LOOP_SOURCE.replace(_name, str(_value))


def write_empty_loop(folder: Path, defns: Iterable[dict[str, Any]]) -> None:
    """The ``empty`` graphs built in a loop by one small file (:data:`EMPTY_LOOP_SOURCE`): what the
    dag-processor needs for these graphs at the least. Written statement by statement instead, one
    file of a thousand DAGs costs Airflow its whole source once per DAG (the ``dag_code`` row)."""
    folder.mkdir(parents=True, exist_ok=True)
    graphs = []
    for defn in defns:
        g = graph(defn)
        graphs.append(
            {
                "dag_id": g.dag_id,
                "steps": [s["id"] for s in g.steps],
                "upstream": g.upstream,
                "rollback": g.rollback,
                "compensation_upstream": g.compensation_upstream,
            }
        )
    (folder / "graphs.json").write_text(json.dumps(graphs))
    (folder / "empty_dags.py").write_text(EMPTY_LOOP_SOURCE)


def dagfactory_yaml(g: Graph) -> str:
    """dag-factory's YAML for the forward-only graph (JSON is valid YAML; dag-factory reads it with
    PyYAML like any YAML file)."""
    tasks: dict[str, Any] = {}
    for step in g.steps:
        sid = step["id"]
        task: dict[str, Any] = {
            "operator": "airflow.providers.standard.operators.python.PythonOperator",
            "python_callable": f"{LIB_MODULE}.run_step",
            "op_kwargs": step["params"],
            "retries": STEP_RETRIES,
            "retry_delay": {"__type__": "datetime.timedelta", "milliseconds": STEP_RETRY_DELAY_MS},
            "execution_timeout": {"__type__": "datetime.timedelta", "milliseconds": STEP_TIMEOUT_MS},
        }
        if g.upstream[sid]:
            task["dependencies"] = list(g.upstream[sid])
        tasks[sid] = task
    doc = {
        g.dag_id: {
            "default_args": {"owner": "wfo", "start_date": "2024-01-01"},
            "schedule": None,
            "catchup": False,
            "tags": ["bench"],
            "tasks": tasks,
        }
    }
    return _yaml(doc)


def _yaml(doc: dict[str, Any]) -> str:
    import yaml

    return str(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))


def write_ours(folder: Path, defns: Iterable[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wfo_dags.py").write_text(LOADER_SOURCE)
    for defn in defns:
        (folder / f"{defn['id']}.json").write_text(json.dumps(defn, indent=2))


def write_hand(folder: Path, defns: Iterable[dict[str, Any]], kind: str = "python") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    parts = [HEADERS[kind]]
    for number, defn in enumerate(defns):
        parts.append(hand_dag_source(graph(defn), number, kind))
    (folder / "hand_dags.py").write_text("".join(parts))


def write_hand_min(folder: Path, defns: Iterable[dict[str, Any]]) -> None:
    write_hand(folder, defns, kind="min")


def write_hand_empty(folder: Path, defns: Iterable[dict[str, Any]]) -> None:
    write_hand(folder, defns, kind="empty")


def forward_only(defn: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(defn))
    for step in copy["steps"]:
        step.pop("rollback", None)
    return copy


def write_dagfactory(folder: Path, defns: Iterable[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagfactory_dags.py").write_text(DAGFACTORY_LOADER_SOURCE)
    for defn in defns:
        (folder / f"{defn['id']}.yaml").write_text(dagfactory_yaml(graph(forward_only(defn))))


def write_lib(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{LIB_MODULE}.py").write_text(LIB_SOURCE)
    return folder


WRITERS = {
    "ours": write_ours,
    "hand": write_hand,
    "dagfactory": write_dagfactory,
    "hand_min": write_hand_min,
    "hand_empty": write_hand_empty,
}
