"""The workflow event vocabulary: the seed's event names plus the ones a saga on Airflow needs."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from airflow_provider_wfo.results import Progress
from airflow_provider_wfo.saga.names import Phase


class WorkflowEventType(str, Enum):
    WORKFLOW_STARTED = "workflow:started"
    WORKFLOW_COMPLETED = "workflow:completed"
    WORKFLOW_FAILED = "workflow:failed"
    STEP_STARTED = "step:started"
    STEP_COMPLETED = "step:completed"
    STEP_FAILED = "step:failed"
    STEP_RETRYING = "step:retrying"
    STEP_SKIPPED = "step:skipped"
    STEP_ROLLED_BACK = "step:rolled_back"
    ROLLBACK_STARTED = "rollback:started"
    ROLLBACK_COMPLETED = "rollback:completed"
    ROLLBACK_FAILED = "rollback:failed"
    WORKFLOW_PROGRESS = "workflow:progress"


#: Which half of the saga an event's step belongs to (the core's enum, under the events' name).
StepPhase = Phase


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class WorkflowEvent(BaseModel):
    """One event. JSON keys are camelCase like the seed's (``event.workflowName``, ``event.duration``)."""

    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel, use_enum_values=False)

    type: WorkflowEventType
    timestamp: datetime = Field(default_factory=_utcnow)
    workflow_id: str
    workflow_name: str
    dag_id: str
    run_id: str
    step_id: str | None = None
    step_name: str | None = None
    #: Airflow task id (``compensate.<step>`` for a compensation), when the event is about a task.
    task_id: str | None = None
    phase: StepPhase | None = None
    attempt: int | None = None
    #: Milliseconds.
    duration: int | None = None
    error: str | None = None
    progress: Progress | None = None
    #: Resolved step parameters after secret redaction (step:completed / step:failed / rolled back).
    params: dict[str, Any] | None = None
    #: Final workflow status for workflow:completed / workflow:failed (a ``WorkflowStatus`` value).
    status: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What identifies an event in a sequence comparison (type, task, attempt)."""
        return (self.type.value, self.task_id, None if self.attempt is None else str(self.attempt))
