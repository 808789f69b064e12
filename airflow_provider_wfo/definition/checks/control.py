"""The control steps (``wait``, ``approval``, ``workflow``): their actions, params and the step fields
that do not apply to them. The params rules themselves are declared in ``definition/control.py``."""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_wfo.definition import conditions
from airflow_provider_wfo.definition.checks.context import Context, as_str, clip
from airflow_provider_wfo.definition.control import (
    APPROVAL,
    CONTROL_ACTIONS,
    WORKFLOW,
    is_control,
    params_issues,
)
from airflow_provider_wfo.definition.errors import suggestion

__all__ = ["check_control_steps"]


def check_control_steps(ctx: Context) -> None:
    for i, step in ctx.steps:
        base = f"steps[{i}]"
        rollback = step.get("rollback")
        if isinstance(rollback, Mapping) and is_control(rollback.get("target")):
            ctx.add(
                f"{base}.rollback.target",
                f"a rollback runs an action; {rollback.get('target')!r} cannot undo a step "
                "(wait, approval and workflow are forward steps only)",
            )
        target = as_str(step.get("target"))
        if target is None or not is_control(target):
            continue
        action = as_str(step.get("action"))
        actions = CONTROL_ACTIONS[target]
        if action is None:
            continue  # pydantic reports the missing or mistyped action
        if action not in actions:
            ctx.add(
                f"{base}.action",
                f"{target!r} has no action {clip(action, 60)!r}{suggestion(action, actions)}; "
                f"its actions: {', '.join(actions)}",
            )
            continue
        params = step.get("params", {})
        ctx.issues.extend(params_issues(target, action, params, f"{base}.params"))
        if action == "poll" and isinstance(params, Mapping) and "until" in params:
            for problem in conditions.check(params["until"], where=f"{base}.params.until"):
                ctx.add(problem.where or f"{base}.params.until", problem.message)
        if step.get("timeout") is not None:
            ctx.add(
                f"{base}.timeout",
                f"a {target} step waits outside any worker, where a task timeout does not apply; "
                + ("put its budget in params.timeout" if target != WORKFLOW else "leave it out"),
            )
        if target == APPROVAL:
            if step.get("rollback") is not None:
                ctx.add(f"{base}.rollback", "an approval has nothing to undo; leave out its rollback")
            retries = step.get("retryCount")
            if isinstance(retries, int) and not isinstance(retries, bool) and retries > 0:
                ctx.add(f"{base}.retryCount", "an answer is final: an approval is never retried")
        if target == WORKFLOW:
            params = step.get("params")
            child = params.get("workflowId") if isinstance(params, Mapping) else None
            if isinstance(child, str) and child == ctx.data.get("id"):
                ctx.add(
                    f"{base}.params.workflowId",
                    f"workflow {clip(child, 60)!r} runs itself: a sub-workflow cycle never ends",
                )
