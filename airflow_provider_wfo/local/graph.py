"""The generated DAG (compensations included) as a Mermaid flowchart, for ``wfo graph`` and the README.

It draws the real DAG built by :func:`build_dag`, so the picture cannot drift from what Airflow runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wfo.saga.names import (
    COMPENSATE_GROUP,
    GATE_TASK_ID,
    RESULT_TASK_ID,
    is_compensation_task_id,
    step_id_of,
)
from airflow_provider_wfo.saga.notes import plan_note

if TYPE_CHECKING:
    from airflow_provider_wfo.definition.models import WorkflowDefinition


def _label(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def dag_to_mermaid(dag: Any, defn: WorkflowDefinition, direction: str = "TD") -> str:
    """A Mermaid ``flowchart`` of ``dag``: steps, the gate, the ``compensate`` group, the result."""
    node_ids: dict[str, str] = {}
    for index, task_id in enumerate(sorted(dag.task_ids, key=list(dag.task_ids).index)):
        node_ids[task_id] = f"t{index}"
    steps = {s.id: s for s in defn.steps}
    lines = [f"flowchart {direction}"]

    def node(task_id: str) -> str:
        nid = node_ids[task_id]
        if task_id == GATE_TASK_ID:
            return f'{nid}{{"saga_decision<br/>commit or compensate?"}}'
        if task_id == RESULT_TASK_ID:
            return f'{nid}(["{RESULT_TASK_ID}"])'
        if is_compensation_task_id(task_id):
            step = steps[step_id_of(task_id)]
            rollback = step.rollback
            assert rollback is not None
            return f'{nid}["undo {_label(step.display_name)}<br/>{rollback.target}.{rollback.action}"]'
        step = steps[task_id]
        extra = " (optional)" if step.optional else ""
        note = plan_note(
            target=step.target, action=step.action, when=step.when, for_each=step.for_each,
            max_concurrency=step.max_concurrency, params=step.params,
        )
        shown = f"<br/><i>{_label(note)}</i>" if note else ""
        return f'{nid}["{_label(step.display_name)}{extra}<br/>{step.target}.{step.action}{shown}"]'

    forward = [s.id for s in defn.steps]
    # A workflow without any rollback has no gate: workflow_result decides (N+1 tasks).
    has_gate = GATE_TASK_ID in node_ids
    decider = GATE_TASK_ID if has_gate else RESULT_TASK_ID
    compensations = [t for t in dag.task_ids if is_compensation_task_id(t)]
    for task_id in forward:
        lines.append(f"    {node(task_id)}")
    if has_gate:
        lines.append(f"    {node(GATE_TASK_ID)}")
    if compensations:
        lines.append(f'    subgraph {COMPENSATE_GROUP}["compensate (saga rollback, reverse order)"]')
        for task_id in compensations:
            lines.append(f"        {node(task_id)}")
        lines.append("    end")
    lines.append(f"    {node(RESULT_TASK_ID)}")

    forward_set = set(forward)
    for task_id in forward:
        for child in sorted(dag.get_task(task_id).downstream_task_ids, key=lambda t: node_ids[t]):
            if child in forward_set:
                lines.append(f"    {node_ids[task_id]} --> {node_ids[child]}")
    # every forward task feeds the gate; drawing only the leaves keeps the picture readable
    leaves = [t for t in forward if not (dag.get_task(t).downstream_task_ids & forward_set)]
    for task_id in leaves:
        lines.append(f"    {node_ids[task_id]} -. all done .-> {node_ids[decider]}")
    for task_id in compensations:
        lines.append(f"    {node_ids[GATE_TASK_ID]} -. on failure .-> {node_ids[task_id]}")
    for task_id in compensations:
        for child in sorted(dag.get_task(task_id).downstream_task_ids, key=lambda t: node_ids[t]):
            if child in compensations:
                lines.append(f"    {node_ids[task_id]} --> {node_ids[child]}")
    comp_leaves = [
        t
        for t in compensations
        if not any(is_compensation_task_id(c) for c in dag.get_task(t).downstream_task_ids)
    ]
    for task_id in comp_leaves:
        lines.append(f"    {node_ids[task_id]} --> {node_ids[RESULT_TASK_ID]}")
    if has_gate:
        lines.append(f"    {node_ids[GATE_TASK_ID]} --> {node_ids[RESULT_TASK_ID]}")
    optional = [node_ids[s.id] for s in defn.steps if s.optional]
    lines.append("    classDef undo fill:#fde2e1,stroke:#c0392b")
    lines.append("    classDef gate fill:#fff3cd,stroke:#b7950b")
    lines.append("    classDef optional stroke-dasharray:4 3")
    if compensations:
        lines.append(f"    class {','.join(node_ids[t] for t in compensations)} undo")
    lines.append(f"    class {node_ids[decider]} gate")
    if optional:
        lines.append(f"    class {','.join(optional)} optional")
    return "\n".join(lines)


def definition_to_mermaid(defn: WorkflowDefinition, direction: str = "TD") -> str:
    """Build the DAG (no DB, no network) and draw it."""
    from airflow_provider_wfo.local.environment import prepare_environment

    prepare_environment()
    from airflow_provider_wfo.factory.dag_factory import build_dag

    return dag_to_mermaid(build_dag(defn), defn, direction)
