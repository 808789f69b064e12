"""Workflow events: the model, the in-process bus, the Airflow listener, sinks and the audit trail.

``from airflow_provider_wfo.events import workflow_events, WorkflowEventType, WorkflowEvent``
"""

from __future__ import annotations

from airflow_provider_wfo.events.bus import WorkflowEventBus, workflow_events
from airflow_provider_wfo.events.model import StepPhase, WorkflowEvent, WorkflowEventType

__all__ = ["StepPhase", "WorkflowEvent", "WorkflowEventBus", "WorkflowEventType", "workflow_events"]
