"""Pydantic models of the workflow definition language.

JSON keys are the seed's camelCase; Python attributes are snake_case. Unknown keys are refused
(``extra="forbid"``) because a silently ignored typo such as ``dependOn`` would change the order
in which side effects happen. Counts and durations are strict integers: ``"3"`` or ``2.5`` for a
retry count is a mistake to report, not a value to coerce.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt
from pydantic.alias_generators import to_camel

#: Durations are milliseconds, as in the seed.
#: Upper bounds keep values inside what timedelta and Airflow's integer columns hold: a
#: ``timeout`` of 10**30 ms or a ``retryCount`` of 10**12 is a mistake to report at load time,
#: not an OverflowError at DAG-parse time.
MAX_MILLISECONDS = 10**12  # about 31 years
MAX_COUNT = 10_000
MAX_BACKOFF = 100.0
Milliseconds = Annotated[StrictInt, Field(ge=0, le=MAX_MILLISECONDS)]
#: A time limit: 0 would stop every attempt at once, so the least is 1 ms.
TimeoutMilliseconds = Annotated[StrictInt, Field(ge=1, le=MAX_MILLISECONDS)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
JsonObject = dict[str, Any]

#: A saga's caller expects a failed call to be retried promptly, not after Airflow's 5 minutes.
DEFAULT_RETRY_DELAY_MS = 1000
#: Compensations get more attempts than forward steps: an undo that gives up needs a person.
DEFAULT_ROLLBACK_RETRY_COUNT = 3


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        str_strip_whitespace=False,
        validate_default=False,
    )

    def to_json_dict(self) -> JsonObject:
        """The definition as it is written in a file: camelCase keys, defaults left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class RollbackAction(_Model):
    """How to undo (compensate) a completed step."""

    action: str = Field(description="Action to run as the compensation, e.g. delete_file.")
    target: str = Field(description="Connector the action belongs to, e.g. drive.")
    params: JsonObject = Field(
        default_factory=dict,
        description="Parameters; may reference $<step-id>.field (the forward step's result), "
        "run-conf keys, $error and $failedStep.",
    )
    conn_id: str | None = Field(default=None, description="Airflow connection id; default wfo_<target>.")
    retry_count: Count = Field(
        default=DEFAULT_ROLLBACK_RETRY_COUNT, description="Retries after the first attempt."
    )
    retry_delay: Milliseconds = Field(
        default=DEFAULT_RETRY_DELAY_MS, description="Delay between retries (ms)."
    )
    timeout: TimeoutMilliseconds | None = Field(default=None, description="Per-attempt time limit (ms).")


class WorkflowStep(_Model):
    """One step: an action on a target, run as one Airflow task."""

    id: str = Field(description="Unique step id; becomes the Airflow task_id.")
    name: str | None = Field(default=None, description="Human-readable name; defaults to the id.")
    action: str = Field(description="Action to execute, e.g. file_document.")
    target: str = Field(description="Connector, e.g. drive, sheets, slack, trello, notion, gmail, http.")
    params: JsonObject = Field(default_factory=dict, description="Action parameters; may hold references.")
    rollback: RollbackAction | None = Field(default=None, description="How to undo this step.")
    optional: StrictBool = Field(
        default=False, description="A failure of this step does not fail the workflow."
    )
    retry_count: Count = Field(default=0, description="Retries after the first attempt.")
    timeout: TimeoutMilliseconds | None = Field(default=None, description="Per-attempt time limit (ms).")
    depends_on: list[str] | None = Field(
        default=None,
        description="Steps that must complete first. Absent: the previous step in the list. []: a root.",
    )
    retry_delay: Milliseconds = Field(
        default=DEFAULT_RETRY_DELAY_MS, description="Delay between retries (ms)."
    )
    retry_backoff: Annotated[StrictFloat, Field(ge=0, le=MAX_BACKOFF, allow_inf_nan=False)] = Field(
        default=0, description="Exponential backoff multiplier for retry delays; 0 turns it off."
    )
    max_retry_delay: Milliseconds | None = Field(
        default=None, description="Upper bound on a retry delay (ms)."
    )
    conn_id: str | None = Field(default=None, description="Airflow connection id; default wfo_<target>.")
    when: Any = Field(
        default=None,
        description="Run the step only when this condition holds (JSON Logic: == != > >= < <= in, "
        "and or ! !!; operands are JSON literals or references such as $check.priority). False: the "
        "step is SKIPPED (reason 'condition false'), never compensated, and the next steps still run.",
    )
    for_each: str | None = Field(
        default=None,
        description="A reference to a list ($travellers, $search.results): the step runs once per "
        "item (Airflow dynamic task mapping); its params and rollback see $item and $index, and its "
        "result is the list of item results in item order.",
    )
    max_concurrency: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = Field(
        default=None, description="forEach only: at most this many items run at once."
    )

    @property
    def display_name(self) -> str:
        return self.name or self.id


class WorkflowDefinition(_Model):
    """A workflow: steps with transaction (saga) semantics, plus how Airflow should schedule it."""

    schema_url: str | None = Field(default=None, alias="$schema", description="JSON Schema URL for editors.")
    id: str = Field(description="Unique workflow id; becomes the Airflow dag_id.")
    name: str = Field(description="Human-readable name.")
    description: str = Field(default="", description="What the workflow does.")
    steps: list[WorkflowStep] = Field(description="The steps, in the order of the sequential rule.")
    rollback_on_failure: StrictBool = Field(
        default=True, description="Compensate completed steps when a required step fails."
    )
    continue_on_optional_failure: StrictBool = Field(
        default=True,
        description="True: go on past a failed optional step (its dependents are skipped). "
        "False: a failed optional step stops the workflow (FAILED, nothing compensated).",
    )
    schedule: str | None = Field(
        default=None, description="Cron expression or preset (@daily); none = manual."
    )
    start_date: str | None = Field(default=None, description="ISO date the schedule starts from.")
    catchup: StrictBool = Field(default=False, description="Run missed schedule intervals.")
    is_paused_upon_creation: StrictBool | None = Field(
        default=None,
        description="Whether the DAG starts paused when Airflow first sees it (Airflow's "
        "is_paused_upon_creation); none = the deployment's [core] dags_are_paused_at_creation.",
    )
    tags: list[str] = Field(default_factory=list, description="Airflow DAG tags.")
    owner: str = Field(default="wfo", description="Airflow task owner.")
    max_active_runs: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = Field(
        default=None, description="Concurrent runs allowed."
    )
    params: dict[str, JsonObject] = Field(
        default_factory=dict,
        description="Run-conf keys, each with a JSON Schema; drives the Airflow trigger form.",
    )

    def step(self, step_id: str) -> WorkflowStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
