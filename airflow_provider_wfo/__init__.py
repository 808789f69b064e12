"""airflow-provider-wfo: JSON workflow definitions become Airflow 3 DAGs that commit or roll back.

Names are imported lazily so that ``import airflow_provider_wfo`` in a DAG file costs little and
does not import Airflow before the embedded default has had a chance to configure it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "WorkflowDefinition": "airflow_provider_wfo.definition.models",
    "WorkflowStep": "airflow_provider_wfo.definition.models",
    "RollbackAction": "airflow_provider_wfo.definition.models",
    "load_workflow_from_json": "airflow_provider_wfo.definition.loading",
    "save_workflow_to_json": "airflow_provider_wfo.definition.loading",
    "DefinitionError": "airflow_provider_wfo.definition.loading",
    "validate_workflow": "airflow_provider_wfo.definition.validation",
    "ValidationResult": "airflow_provider_wfo.definition.validation",
    "WorkflowStatus": "airflow_provider_wfo.results",
    "StepStatus": "airflow_provider_wfo.results",
    "WorkflowResult": "airflow_provider_wfo.results",
    "StepResult": "airflow_provider_wfo.results",
    "register_action": "airflow_provider_wfo.actions.registry",
    "ActionContext": "airflow_provider_wfo.actions.registry",
    "ActionError": "airflow_provider_wfo.actions.registry",
    "NonRetryableActionError": "airflow_provider_wfo.actions.registry",
    "build_dag": "airflow_provider_wfo.factory.dag_factory",
    "load_workflow_dags": "airflow_provider_wfo.factory.loader",
    "execute_workflow": "airflow_provider_wfo.local.runner",
    "workflow_events": "airflow_provider_wfo.events.bus",
    "WorkflowEventType": "airflow_provider_wfo.events.model",
    "WorkflowEvent": "airflow_provider_wfo.events.model",
    "handle_invoice": "airflow_provider_wfo.prebuilt.api",
    "handle_bug_report": "airflow_provider_wfo.prebuilt.api",
    "handle_meeting": "airflow_provider_wfo.prebuilt.api",
    "handle_report": "airflow_provider_wfo.prebuilt.api",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from airflow_provider_wfo.actions.registry import (
        ActionContext,
        ActionError,
        NonRetryableActionError,
        register_action,
    )
    from airflow_provider_wfo.definition.models import RollbackAction, WorkflowDefinition, WorkflowStep
    from airflow_provider_wfo.results import StepResult, StepStatus, WorkflowResult, WorkflowStatus


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_provider_wfo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
