"""Workflow events: the model, the in-process bus, the Airflow listener, sinks and the audit trail.

``from airflow_provider_wfo.events import workflow_events, WorkflowEventType, WorkflowEvent``

Names load lazily: the DAG factory imports ``events.retry`` at parse time, and the dag-processor
should not pay for building the event models there (bench: parse cost of a loader file).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "WorkflowEventBus": "airflow_provider_wfo.events.bus",
    "workflow_events": "airflow_provider_wfo.events.bus",
    "StepPhase": "airflow_provider_wfo.events.model",
    "WorkflowEvent": "airflow_provider_wfo.events.model",
    "WorkflowEventType": "airflow_provider_wfo.events.model",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from airflow_provider_wfo.events.bus import WorkflowEventBus as WorkflowEventBus
    from airflow_provider_wfo.events.bus import workflow_events as workflow_events
    from airflow_provider_wfo.events.model import StepPhase as StepPhase
    from airflow_provider_wfo.events.model import WorkflowEvent as WorkflowEvent
    from airflow_provider_wfo.events.model import WorkflowEventType as WorkflowEventType


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_provider_wfo.events' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
