"""Sub-workflow calls between definitions: a cycle of ``workflow.run`` steps never ends.

One definition alone can only see itself called (``checks/control.py``); a cycle through several
needs the others, so ``wfo validate FOLDER`` and the loader (one folder of definitions) run
:func:`call_cycle_issues` over every definition they read. A call to a workflow that is not among
them is not an error here: it may live in another folder of the same deployment.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from airflow_provider_wfo.definition.control import WORKFLOW
from airflow_provider_wfo.definition.errors import ValidationIssue
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.ordering import find_cycle

__all__ = ["call_cycle_issues", "calls"]


def calls(defn: WorkflowDefinition) -> list[tuple[int, str]]:
    """(step index, called workflow id) of every ``workflow.run`` step."""
    found: list[tuple[int, str]] = []
    for i, step in enumerate(defn.steps):
        child = step.params.get("workflowId") if step.target == WORKFLOW else None
        if isinstance(child, str):
            found.append((i, child))
    return found


def call_cycle_issues(definitions: Iterable[WorkflowDefinition]) -> dict[str, list[ValidationIssue]]:
    """Workflow id -> the issues of the definitions on a cycle of calls (at the calling step)."""
    by_id = {d.id: d for d in definitions}
    graph: dict[str, list[str]] = {
        wid: list(dict.fromkeys(c for _, c in calls(d) if c in by_id)) for wid, d in by_id.items()
    }
    issues: dict[str, list[ValidationIssue]] = {}
    while (cycle := find_cycle(graph)) is not None:
        # find_cycle reports against the edges' direction (it is written for "waits for" edges).
        order: Sequence[str] = list(reversed(cycle))
        told = " -> ".join(order)
        for caller, callee in itertools.pairwise(order):
            for i, child in calls(by_id[caller]):
                if child == callee:
                    issues.setdefault(caller, []).append(
                        ValidationIssue(
                            f"steps[{i}].params.workflowId",
                            f"workflows call each other in a cycle ({told}): a sub-workflow cycle never ends",
                        )
                    )
        for node in set(order):
            graph.pop(node, None)
        for node, children in graph.items():
            graph[node] = [c for c in children if c in graph]
    return issues
