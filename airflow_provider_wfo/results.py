"""The seed's result types: ``WorkflowResult``, ``StepResult``, progress and the status enums."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WorkflowStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ROLLED_BACK = "ROLLED_BACK"
    #: Some compensation did not succeed: what was done is only partly undone; needs a person.
    ROLLBACK_FAILED = "ROLLBACK_FAILED"


class StepStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    #: An optional step that failed; the workflow went on (or stopped, see continueOnOptionalFailure).
    FAILED_OPTIONAL = "FAILED_OPTIONAL"
    SKIPPED = "SKIPPED"
    ROLLED_BACK = "ROLLED_BACK"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"


class _Result(BaseModel):
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ActionResult(_Result):
    """What a step returned, as the seed shapes it (``step.result.data.webViewLink``)."""

    success: bool
    data: dict[str, Any] = Field(default_factory=dict)


class RollbackResult(_Result):
    status: StepStatus
    attempts: int = 0
    duration: int | None = None
    error: str | None = None
    result: dict[str, Any] | None = None


class ItemResult(_Result):
    """One item of a ``forEach`` step (its result is ``data.items[index]`` of the step's result)."""

    index: int
    status: StepStatus
    error: str | None = None
    #: Why a SKIPPED item did not run (``saga aborted: ...`` once another item failed for good).
    reason: str | None = None
    attempts: int = 0
    duration: int | None = None  # milliseconds
    rollback: RollbackResult | None = None


class StepResult(_Result):
    step_id: str
    step_name: str
    status: StepStatus
    optional: bool = False
    result: ActionResult | None = None
    error: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None  # milliseconds
    attempts: int = 0
    rolled_back: bool = False
    rollback: RollbackResult | None = None
    #: Why a SKIPPED step did not run: ``condition false``, ``saga aborted: ...``.
    reason: str | None = None
    #: A ``forEach`` step's items in item order; ``result.data.items`` holds their results.
    items: list[ItemResult] | None = None


class Progress(_Result):
    current_step: int
    total_steps: int
    completed_steps: int
    failed_steps: int
    status: WorkflowStatus
    percent_complete: int
    current_step_name: str | None = None


class WorkflowResult(_Result):
    workflow_id: str
    workflow_name: str
    status: WorkflowStatus
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None  # milliseconds
    steps: list[StepResult]
    progress: Progress
    success: bool
    error: str | None = None
    rollback_performed: bool = False
    failed_step: str | None = None
    dag_id: str | None = None
    run_id: str | None = None

    def step(self, step_id: str) -> StepResult:
        for step in self.steps:
            if step.step_id == step_id:
                return step
        raise KeyError(step_id)
