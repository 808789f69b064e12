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

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from airflow_provider_wfo.actions.registry import (
        ActionContext as ActionContext,
    )
    from airflow_provider_wfo.actions.registry import (
        ActionError as ActionError,
    )
    from airflow_provider_wfo.actions.registry import (
        NonRetryableActionError as NonRetryableActionError,
    )
    from airflow_provider_wfo.actions.registry import (
        register_action as register_action,
    )
    from airflow_provider_wfo.definition.loading import (
        DefinitionError as DefinitionError,
    )
    from airflow_provider_wfo.definition.loading import (
        load_workflow_from_json as load_workflow_from_json,
    )
    from airflow_provider_wfo.definition.loading import (
        save_workflow_to_json as save_workflow_to_json,
    )
    from airflow_provider_wfo.definition.models import (
        RollbackAction as RollbackAction,
    )
    from airflow_provider_wfo.definition.models import (
        WorkflowDefinition as WorkflowDefinition,
    )
    from airflow_provider_wfo.definition.models import (
        WorkflowStep as WorkflowStep,
    )
    from airflow_provider_wfo.definition.validation import (
        ValidationResult as ValidationResult,
    )
    from airflow_provider_wfo.definition.validation import (
        validate_workflow as validate_workflow,
    )
    from airflow_provider_wfo.events.bus import (
        workflow_events as workflow_events,
    )
    from airflow_provider_wfo.events.model import (
        WorkflowEvent as WorkflowEvent,
    )
    from airflow_provider_wfo.events.model import (
        WorkflowEventType as WorkflowEventType,
    )
    from airflow_provider_wfo.factory.dag_factory import (
        build_dag as build_dag,
    )
    from airflow_provider_wfo.factory.loader import (
        load_workflow_dags as load_workflow_dags,
    )
    from airflow_provider_wfo.local.runner import (
        execute_workflow as execute_workflow,
    )
    from airflow_provider_wfo.prebuilt.api import (
        handle_bug_report as handle_bug_report,
    )
    from airflow_provider_wfo.prebuilt.api import (
        handle_invoice as handle_invoice,
    )
    from airflow_provider_wfo.prebuilt.api import (
        handle_meeting as handle_meeting,
    )
    from airflow_provider_wfo.prebuilt.api import (
        handle_report as handle_report,
    )
    from airflow_provider_wfo.results import (
        StepResult as StepResult,
    )
    from airflow_provider_wfo.results import (
        StepStatus as StepStatus,
    )
    from airflow_provider_wfo.results import (
        WorkflowResult as WorkflowResult,
    )
    from airflow_provider_wfo.results import (
        WorkflowStatus as WorkflowStatus,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_provider_wfo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
