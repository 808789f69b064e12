"""Which operator runs a forward step: the control targets have their own, every other target is an
action call (``WfoStepOperator``). Imports are lazy so a DAG without control steps pays for none."""

from __future__ import annotations

from typing import cast

from airflow_provider_wfo.definition.control import APPROVAL, WAIT, WORKFLOW
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.step import WfoStepOperator


def forward_operator_class(step: WorkflowStep) -> type[WfoStepOperator]:
    if step.target == WAIT:
        from airflow_provider_wfo.operators.wait import WfoWaitOperator

        return WfoWaitOperator
    if step.target == APPROVAL:
        from airflow_provider_wfo.operators.approval import WfoApprovalOperator

        # The provider's operators are untyped (Any to mypy); this one is a WfoStepOperator.
        return cast("type[WfoStepOperator]", WfoApprovalOperator)
    if step.target == WORKFLOW:
        from airflow_provider_wfo.operators.subworkflow import WfoWorkflowOperator

        return cast("type[WfoStepOperator]", WfoWorkflowOperator)
    return WfoStepOperator
