"""The saga plan of a definition: the core's :func:`~airflow_provider_wfo.saga.plan.build_plan` fed with
the definition's ordering rule (``definition/ordering.upstream_ids``)."""

from __future__ import annotations

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.ordering import upstream_ids
from airflow_provider_wfo.saga.plan import SagaPlan, build_plan


def plan_for(defn: WorkflowDefinition) -> SagaPlan:
    return build_plan(defn, upstream_ids(defn.steps))
