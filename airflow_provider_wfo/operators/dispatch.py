"""Which operator runs a forward step: the control targets have their own, every other target is an
action call (``WfoStepOperator``). Imports are lazy so a DAG without control steps pays for none."""

from __future__ import annotations

from airflow_provider_wfo.definition.control import WAIT
from airflow_provider_wfo.definition.models import WorkflowStep
from airflow_provider_wfo.operators.step import WfoStepOperator


def forward_operator_class(step: WorkflowStep) -> type[WfoStepOperator]:
    if step.target == WAIT:
        from airflow_provider_wfo.operators.wait import WfoWaitOperator

        return WfoWaitOperator
    return WfoStepOperator
