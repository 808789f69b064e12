"""The built-in control targets: ``wait`` (delay, poll), ``approval`` (request), ``workflow`` (run).

They are not connectors: each runs on an Airflow primitive of its own (a deferral to the triggerer,
a Human-in-the-loop request, a triggered child DAG run), so the DAG factory gives them their own
operators. This module declares their params as pydantic models, once, for three readers:

* ``wfo validate`` (:func:`params_issues`, at validate time: a field may still hold a reference,
  whose value is checked when the step runs);
* the operators (:func:`parse_params` after the references were resolved: the same rules, on the
  values);
* the JSON Schema (:func:`params_schemas`).

Pure pydantic: no Airflow import (``wfo validate`` and the triggerer read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_provider_wfo.definition.errors import (
    ValidationIssue,
    _translate,
    describe,
    json_path,
    suggestion,
)
from airflow_provider_wfo.definition.references import ReferenceError, find_references
from airflow_provider_wfo.definition.rules import AIRFLOW_ID, MAX_ID_LENGTH

__all__ = [
    "APPROVAL",
    "CONTROL_ACTIONS",
    "RESPONSE_NAME",
    "WAIT",
    "WORKFLOW",
    "ApprovalParams",
    "ControlParams",
    "DelayParams",
    "PollParams",
    "WorkflowRunParams",
    "is_control",
    "params_issues",
    "params_model",
    "parse_moment",
    "parse_params",
]

WAIT = "wait"
APPROVAL = "approval"
WORKFLOW = "workflow"

#: A poll's ``until`` reads the last response as ``$response`` (``status``, ``headers``, ``body``).
RESPONSE_NAME = "response"
#: The shortest poll interval: a hot loop on the shared triggerer would slow every other wait.
MIN_POLL_INTERVAL_MS = 1000
DEFAULT_POLL_INTERVAL_MS = 30_000
#: A wait longer than this is a mistake (and beyond what timedelta arithmetic near "now" holds).
MAX_WAIT_MS = 366 * 24 * 3600 * 1000
#: Each poll request gives up after this long (or the time left, when less).
POLL_REQUEST_TIMEOUT_S = 30.0
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_ASSIGNEES = 100
MAX_TEXT = 100_000

#: Names that mark a credential (Airflow's secrets masker hides keys containing these). A poll's
#: request is stored in the trigger table, so such headers and query parameters are refused: the
#: credentials belong in the connection (``connId``), which the trigger reads by id.
SENSITIVE_NAMES = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "private-key",
    "credential",
    "session",
)

_Ms = Annotated[StrictInt, Field(ge=0, le=MAX_WAIT_MS)]
_VALIDATE = "wfo_validate"


def _holds_reference(value: Any) -> bool:
    """A string with a reference in it (its value is known only when the step runs)."""
    if not isinstance(value, str) or "$" not in value:
        return False
    try:
        return any(True for _ in find_references(value))
    except ReferenceError:
        return False  # the reference check reports it


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date-time *with* an offset (``2026-01-01T09:00:00Z``). A naive time is refused:
    whose 9 o'clock would it be?"""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{describe(text)} is not an ISO 8601 date-time; write e.g. 2026-01-01T09:00:00Z"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{describe(text)} has no UTC offset; add Z or +01:00")
    return moment


class ControlParams(BaseModel):
    """Base of the control targets' params: unknown keys refused; at validate time a field that holds
    a reference is accepted as it is (``literal`` fields excepted) and checked again once resolved."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    #: Fields that must be written in the definition, never a reference (whoever triggers a run
    #: must not be able to switch them: who approves, which workflow runs).
    literal: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="wrap")
    @classmethod
    def _reference_later(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        validating = bool(info.context and info.context.get(_VALIDATE))
        if validating and info.field_name not in cls.literal and _holds_reference(value):
            return value
        return handler(value)

    @staticmethod
    def later(value: Any, info: ValidationInfo) -> bool:
        """True for a reference at validate time: a field's own rule runs when it is resolved."""
        return bool(info.context and info.context.get(_VALIDATE)) and _holds_reference(value)

    @classmethod
    def resolved(cls, *values: Any) -> bool:
        """True when none of ``values`` is a reference left for run time."""
        return not any(_holds_reference(v) for v in values)


class DelayParams(ControlParams):
    """``wait.delay``: sleep on the triggerer for ``duration`` ms, or until the moment ``until``."""

    duration: _Ms | None = Field(default=None, description="How long to wait (ms).")
    until: StrictStr | None = Field(
        default=None, description="When to resume: an ISO 8601 date-time with offset, or a reference."
    )

    @field_validator("until")
    @classmethod
    def _moment(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not cls.later(value, info):
            parse_moment(value)
        return value

    @model_validator(mode="after")
    def _one_of(self) -> DelayParams:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give exactly one of 'duration' (ms) or 'until' (an ISO date-time)")
        return self


class PollParams(ControlParams):
    """``wait.poll``: an http ``request`` repeated every ``interval`` ms on the triggerer until the
    condition ``until`` over ``$response`` holds; ``timeout`` ms after the first poll the step fails."""

    method: StrictStr | None = Field(default=None, description="GET (default) or another method.")
    url: StrictStr | None = Field(default=None, description="Absolute http(s) URL, sent with no credentials.")
    endpoint: StrictStr | None = Field(
        default=None, description="Path relative to the connection's base URL (connId, default wfo_http)."
    )
    headers: dict[str, StrictStr] = Field(default_factory=dict, description="Request headers.")
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters.")
    json_body: Any = Field(default=None, alias="json", description="JSON body.")
    data: Any = Field(default=None, description="Form or raw body.")
    until: Any = Field(
        description="Condition (the `when` form) over $response.status, $response.body, $response.headers."
    )
    interval: Annotated[StrictInt, Field(ge=MIN_POLL_INTERVAL_MS, le=MAX_WAIT_MS)] = Field(
        default=DEFAULT_POLL_INTERVAL_MS, description="Time between polls (ms, at least 1000)."
    )
    timeout: _Ms = Field(description="The whole wait's budget (ms); past it the step fails.")

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or cls.later(value, info):
            return value
        if value.upper() not in HTTP_METHODS:
            raise ValueError(f"{describe(value)} is not one of {', '.join(HTTP_METHODS)}")
        return value.upper()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or cls.later(value, info):
            return value
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("url must be http:// or https://")
        if "@" in value.split("/", 3)[2]:
            raise ValueError(
                "a URL with user info carries a credential: use an HTTP connection (endpoint + connId)"
            )
        return value

    @field_validator("headers", "query")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        for key in value:
            lowered = key.lower()
            if any(word in lowered for word in SENSITIVE_NAMES):
                raise ValueError(
                    f"{info.field_name} {key!r} would carry a credential, and a poll's request is stored "
                    "while it waits: put it in an HTTP connection (endpoint + connId)"
                )
        return value

    @model_validator(mode="after")
    def _shape(self) -> PollParams:
        if (self.url is None) == (self.endpoint is None):
            raise ValueError("give exactly one of 'url' (absolute) or 'endpoint' (with a connection)")
        if self.json_body is not None and self.data is not None:
            raise ValueError("give 'json' or 'data', not both")
        if self.resolved(self.interval, self.timeout) and self.timeout <= self.interval:
            raise ValueError(f"timeout ({self.timeout} ms) must be longer than interval ({self.interval} ms)")
        return self


class ApprovalParams(ControlParams):
    """``approval.request``: a Human-in-the-loop request (Airflow's ApprovalOperator)."""

    literal = frozenset({"assignees", "timeout", "onTimeout", "on_timeout"})

    subject: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT)] = Field(
        description="The headline shown to the approver; references allowed."
    )
    body: Annotated[StrictStr, Field(max_length=MAX_TEXT)] | None = Field(
        default=None, description="Details (Markdown); references allowed."
    )
    assignees: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_LENGTH)]],
        Field(max_length=MAX_ASSIGNEES),
    ] = Field(default_factory=list, description="Airflow user ids allowed to answer; empty: any user.")
    timeout: _Ms | None = Field(
        default=None, description="How long to wait for an answer (ms); none: no limit."
    )
    on_timeout: Literal["reject", "approve"] = Field(
        default="reject", alias="onTimeout", description="The answer taken when the timeout passes."
    )


class WorkflowRunParams(ControlParams):
    """``workflow.run``: trigger another workflow's DAG and wait for its WorkflowResult."""

    literal = frozenset({"workflowId", "workflow_id"})

    workflow_id: StrictStr = Field(alias="workflowId", description="The child workflow's id (its dag_id).")
    conf: dict[str, Any] = Field(
        default_factory=dict, description="The child's run conf; references allowed."
    )

    @field_validator("workflow_id")
    @classmethod
    def _dag_id(cls, value: str) -> str:
        if not AIRFLOW_ID.fullmatch(value) or len(value) > MAX_ID_LENGTH:
            raise ValueError(f"{describe(value)} is not a workflow id (letters, digits, _ . -)")
        return value


#: target -> action -> params model.
CONTROL_ACTIONS: Mapping[str, Mapping[str, type[ControlParams]]] = {
    WAIT: {"delay": DelayParams, "poll": PollParams},
    APPROVAL: {"request": ApprovalParams},
    WORKFLOW: {"run": WorkflowRunParams},
}


def is_control(target: object) -> bool:
    return isinstance(target, str) and target in CONTROL_ACTIONS


def params_model(target: str, action: str) -> type[ControlParams] | None:
    return CONTROL_ACTIONS.get(target, {}).get(action)


def _issue(error: Mapping[str, Any], base: str, model: type[ControlParams]) -> ValidationIssue:
    loc = tuple(p for p in error.get("loc", ()) if isinstance(p, (str, int)))
    where = json_path(loc, base)
    kind = str(error.get("type", ""))
    if kind == "extra_forbidden" and loc and isinstance(loc[-1], str):
        known = sorted(info.alias or name for name, info in model.model_fields.items())
        hint = suggestion(loc[-1], known) or f" (known keys: {', '.join(known)})"
        return ValidationIssue(where, f"unknown key {loc[-1]!r}{hint}")
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return ValidationIssue(where, message)
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return ValidationIssue(where, f"must be {expected}, got {describe(error.get('input'))}")
    # The generic wording (expected a whole number, must be at least ...), at our location.
    generic = _translate({**error, "loc": loc})
    return ValidationIssue(where, generic.message)


def params_issues(target: str, action: str, params: Any, base: str) -> list[ValidationIssue]:
    """Validate-time problems of a control step's params (``base`` is their JSON path)."""
    model = params_model(target, action)
    if model is None:
        return []
    if not isinstance(params, Mapping):
        return []  # pydantic already reported "expected an object"
    for key in model.literal:
        value = params.get(key)
        if _holds_reference(value):
            return [
                ValidationIssue(
                    json_path((key,), base),
                    f"{key} must be written in the definition, not a reference: whoever triggers a run "
                    "must not be able to change it",
                )
            ]
    try:
        model.model_validate(dict(params), context={_VALIDATE: True})
    except ValidationError as exc:
        return [_issue(e, base, model) for e in exc.errors(include_url=False, include_context=True)]
    return []


def parse_params(target: str, action: str, params: Mapping[str, Any]) -> ControlParams:
    """Resolved params as their model; raises ``ValueError`` with every problem, located under
    ``params``, when a resolved value breaks a rule."""
    model = params_model(target, action)
    if model is None:
        raise ValueError(f"{target}.{action} is not a control action")
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        issues = [_issue(e, "params", model) for e in exc.errors(include_url=False, include_context=True)]
        raise ValueError("; ".join(str(i) for i in issues)) from None


#: The JSON Schema of a string holding a reference (the same definition the connectors' params use).
REFERENCE_DEF = "wfoReference"
REFERENCE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"\$[A-Za-z_{]",
    "description": "A reference ($step.field, ${name}); its value is checked when the step runs.",
}


def _model_schema(model: type[ControlParams]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    raw.pop("title", None)
    literal = model.literal
    for key, sub in raw.get("properties", {}).items():
        sub.pop("title", None)
        if key not in literal:
            raw["properties"][key] = {
                "anyOf": [sub, {"$ref": f"#/$defs/{REFERENCE_DEF}"}],
                "description": sub.get("description", ""),
            }
    return raw


def apply_to_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The definition schema with the control actions' params on ``WorkflowStep`` (if/then rules,
    appended to any the connectors declared) and the control targets among the completions."""
    defs = schema.setdefault("$defs", {})
    defs.setdefault(REFERENCE_DEF, REFERENCE_SCHEMA)
    rules: list[dict[str, Any]] = []
    for target, actions in CONTROL_ACTIONS.items():
        for action, model in actions.items():
            name = f"{target}.{action}.params"
            defs[name] = _model_schema(model)
            rules.append(
                {
                    "if": {
                        "properties": {"target": {"const": target}, "action": {"const": action}},
                        "required": ["target", "action"],
                    },
                    "then": {"properties": {"params": {"$ref": f"#/$defs/{name}"}}},
                }
            )
        rules.append(
            {
                "if": {"properties": {"target": {"const": target}}, "required": ["target"]},
                "then": {"properties": {"action": {"enum": list(actions)}}},
            }
        )
    step = defs.get("WorkflowStep")
    if isinstance(step, dict):
        step.setdefault("allOf", []).extend(rules)
        target_schema = step.get("properties", {}).get("target")
        if isinstance(target_schema, dict):
            examples = target_schema.setdefault("examples", [])
            examples.extend(t for t in CONTROL_ACTIONS if t not in examples)
    return schema
