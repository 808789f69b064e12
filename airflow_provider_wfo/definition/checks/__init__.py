"""The semantic rules of a definition, one module per concern, over the raw JSON data.

They run on the JSON data rather than on the model, so a definition with a wrong type in one
step still gets its cycles, dangling dependencies and bad references reported in the same pass
(each check is tolerant of what pydantic already refused). Every pass is linear, or near it, in
the size of the definition.

* :mod:`.names`: workflow id and fields, step ids, param names, step fields
* :mod:`.order`: dependencies, cycles, and whether a referenced step is upstream
* :mod:`.refs`: reference syntax and names
* :mod:`.step_flow`: ``when`` conditions, ``forEach`` lists, ``maxConcurrency``
* :mod:`.schedule`: schedule and start date
* :mod:`.params_schema`: the params' JSON Schemas
* :mod:`.actions`: each built-in step's params against its action's model
* :mod:`.credentials`: no password in a URL of the definition
* :mod:`.control`: the wait, approval and workflow steps (their params: ``definition/control.py``)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.definition.checks import (
    actions,
    control,
    credentials,
    names,
    order,
    params_schema,
    refs,
    schedule,
    step_flow,
)
from airflow_provider_wfo.definition.checks.context import Context
from airflow_provider_wfo.definition.errors import ValidationIssue

__all__ = ["Context", "semantic_issues"]


def semantic_issues(data: Mapping[str, Any]) -> list[ValidationIssue]:
    """Every semantic problem of a definition's JSON data, in a stable order."""
    ctx = Context.of(data)
    names.check_workflow(ctx)
    names.check_step_ids(ctx)
    names.check_params_names(ctx)
    names.check_step_fields(ctx)
    upstream = order.check_dependencies(ctx)
    has_cycle = order.check_cycles(ctx, upstream)
    found = refs.check_references(ctx)
    found += step_flow.check_step_flow(ctx)
    if not has_cycle:
        order.check_order(ctx, upstream, found)
    schedule.check_schedule(ctx)
    schedule.check_start_date(ctx)
    params_schema.check_params_schemas(ctx)
    actions.check_actions(ctx)
    control.check_control_steps(ctx)
    credentials.check_credentials(ctx)
    return ctx.issues
