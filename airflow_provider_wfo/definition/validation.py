"""``validate_workflow``: every problem of a definition at once, each with a JSON-path location.

The checks run on the JSON data rather than on the model, so a definition with a wrong type in
one step still gets its cycles, dangling dependencies and bad references reported in the same
pass. Every pass is linear (or near it) in the size of the definition: 10,000 steps validate in
well under a second. Whether a step may read another step's result is decided by the ordering
rule of :mod:`~airflow_provider_wfo.definition.ordering`, with ancestor sets kept as bitsets over
the referenced steps only, freed as soon as no later step needs them.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from airflow_provider_wfo.definition import ordering
from airflow_provider_wfo.definition.errors import (
    DOCUMENT,
    DefinitionError,
    ValidationIssue,
    describe,
    issues_from_pydantic,
    json_path,
    suggestion,
)
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.references import ReferenceError as RefError
from airflow_provider_wfo.definition.references import find_references

__all__ = [
    "AIRFLOW_ID",
    "BUILTIN_SCOPE_NAMES",
    "MAX_ID_LENGTH",
    "MAX_NESTING",
    "RESERVED_SCOPE_NAMES",
    "RESERVED_STEP_IDS",
    "SCHEDULE_PRESETS",
    "DefinitionError",
    "ValidationIssue",
    "ValidationResult",
    "check_definition",
    "validate_workflow",
]

#: Deepest nesting of objects and lists in a whole definition (params may nest 64 levels).
MAX_NESTING = 100
#: What Airflow accepts as a dag_id / task_id.
AIRFLOW_ID = re.compile(r"[A-Za-z0-9_.-]+")
MAX_ID_LENGTH = 250
#: A compensation task is ``compensate.<step id>``; it must still fit in Airflow's 250 characters.
COMPENSATION_PREFIX = "compensate."
MAX_STEP_ID_LENGTH = MAX_ID_LENGTH - len(COMPENSATION_PREFIX)
#: Task ids the DAG factory uses for its own tasks.
RESERVED_STEP_IDS: Mapping[str, str] = {
    "saga_decision": "the saga gate task",
    "workflow_result": "the result task",
    "compensate": "the task group of the compensations",
}
#: Names a rollback's params can read besides results and run conf.
RESERVED_SCOPE_NAMES: Mapping[str, str] = {
    "error": "the failed step's error text",
    "failedStep": "the failed step's id",
}
#: Names every step's params can read: facts about the run (dagId, runId, date, startTime, logicalDate).
BUILTIN_SCOPE_NAMES: Mapping[str, str] = {
    "run": "the run's facts ($run.date, $run.runId, $run.dagId, $run.startTime, $run.logicalDate)",
}
#: Airflow's schedule presets; anything else must be a five-field cron expression.
SCHEDULE_PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
)
#: A name that ``$name`` can refer to (see references.py).
REFERENCE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: Airflow's limit on a DAG tag.
MAX_TAG_LENGTH = 100
_MAX_DATA_ISSUES = 20
_TYPES = "string, number, integer, boolean, object, array, null"


@dataclass(frozen=True)
class ValidationResult:
    """``valid`` is True when ``errors`` is empty. Truthy when valid."""

    valid: bool
    errors: list[ValidationIssue] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.valid

    @property
    def messages(self) -> list[str]:
        """Each error as ``location: message``."""
        return [str(issue) for issue in self.errors]

    def raise_for_errors(self, source: str | None = None) -> None:
        """Raise :class:`DefinitionError` with every error, when there is any."""
        if not self.valid:
            raise DefinitionError(self.errors, source)


def validate_workflow(defn: WorkflowDefinition | Mapping[str, Any]) -> ValidationResult:
    """Check a definition (a model, or its JSON data as a dict with camelCase keys).

    Collects every problem: structure and types, ids and names, steps, dependencies and cycles,
    references and the ordering rule, schedule, start date, params schemas. Never raises for a
    bad definition; the only way to learn about one is ``result.errors``.
    """
    if isinstance(defn, WorkflowDefinition):
        try:
            data: Any = defn.model_dump(mode="json", by_alias=True, exclude_unset=True)
        except Exception as exc:  # a value assigned in Python that is not JSON
            return ValidationResult(
                False, [ValidationIssue(DOCUMENT, f"not JSON data: {type(exc).__name__}")]
            )
    else:
        data = defn
    _, issues = check_definition(data)
    return ValidationResult(not issues, issues)


def check_definition(
    data: Any, *, semantic: bool = True
) -> tuple[WorkflowDefinition | None, list[ValidationIssue]]:
    """The model (when there is no problem at all) and every problem found in JSON data."""
    if not isinstance(data, Mapping):
        return None, [ValidationIssue(DOCUMENT, f"a workflow definition is an object, got {describe(data)}")]
    issues = _data_issues(data)
    if issues:
        return None, issues
    model: WorkflowDefinition | None = None
    try:
        model = WorkflowDefinition.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        issues.extend(issues_from_pydantic(exc))
    if semantic:
        issues.extend(_Checker(data).run())
    unique = list(dict.fromkeys(issues))
    return (model if not unique else None), unique


def _data_issues(data: Mapping[str, Any]) -> list[ValidationIssue]:
    """Non-JSON values (from Python callers) and nesting deeper than MAX_NESTING. Iterative."""
    issues: list[ValidationIssue] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack and len(issues) < _MAX_DATA_ISSUES:
        value, path = stack.pop()
        if isinstance(value, (str, bool, int)) or value is None:
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                issues.append(ValidationIssue(json_path(path), f"{value} is not a JSON number"))
            continue
        if len(path) >= MAX_NESTING:
            issues.append(
                ValidationIssue(json_path(path), f"nested too deeply (at most {MAX_NESTING} levels)")
            )
            continue
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    issues.append(
                        ValidationIssue(json_path(path), f"object keys must be strings, got {key!r}")
                    )
                    continue
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
        else:
            issues.append(ValidationIssue(json_path(path), f"not JSON data: {describe(value)}"))
    return issues


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _Shell(NamedTuple):
    """A step as the ordering rule sees it, built from raw JSON."""

    id: str
    depends_on: list[str] | None


@dataclass
class _Ref:
    """A reference from a step (or its rollback) to another step's result, checked against the order."""

    step: str
    target: str
    location: str
    text: str
    rollback: bool


class _Checker:
    """The semantic rules, over the raw JSON data (tolerant of what pydantic already refused)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.issues: list[ValidationIssue] = []
        raw_steps = data.get("steps")
        self.steps: list[tuple[int, Mapping[str, Any]]] = (
            [(i, s) for i, s in enumerate(raw_steps) if isinstance(s, Mapping)]
            if isinstance(raw_steps, list)
            else []
        )
        self.by_index: dict[int, Mapping[str, Any]] = dict(self.steps)
        self.index: dict[str, int] = {}
        raw_params = data.get("params")
        self.declared: dict[str, Any] = dict(raw_params) if isinstance(raw_params, Mapping) else {}

    def add(self, location: str, message: str) -> None:
        self.issues.append(ValidationIssue(location, message))

    def run(self) -> list[ValidationIssue]:
        self.check_workflow()
        self.check_step_ids()
        self.check_params_names()
        for i, step in self.steps:
            self.check_step_fields(i, step)
        upstream = self.check_dependencies()
        has_cycle = self.check_cycles(upstream)
        refs = self.check_references()
        if not has_cycle:
            self.check_order(upstream, refs)
        self.check_schedule()
        self.check_start_date()
        self.check_params_schemas()
        return self.issues

    # -- workflow ------------------------------------------------------------------------------

    def check_workflow(self) -> None:
        wid = _str(self.data.get("id"))
        if wid is not None:
            self.check_airflow_id("id", wid, "workflow id", "dag_id", MAX_ID_LENGTH)
        name = _str(self.data.get("name"))
        if name is not None and not name.strip():
            self.add("name", "the workflow name must not be empty")
        steps = self.data.get("steps")
        if isinstance(steps, list) and not steps:
            self.add("steps", "a workflow needs at least one step")
        owner = _str(self.data.get("owner"))
        if owner is not None and not owner.strip():
            self.add("owner", "the owner must not be empty (leave the key out for the default)")
        tags = self.data.get("tags")
        if isinstance(tags, list):
            for k, tag in enumerate(tags):
                if isinstance(tag, str) and not (0 < len(tag) <= MAX_TAG_LENGTH):
                    self.add(f"tags[{k}]", f"a tag has 1 to {MAX_TAG_LENGTH} characters")

    def check_airflow_id(self, location: str, value: str, what: str, airflow_name: str, limit: int) -> bool:
        if not value:
            self.add(location, f"the {what} must not be empty")
            return False
        if not AIRFLOW_ID.fullmatch(value):
            bad = sorted({c for c in value if not AIRFLOW_ID.fullmatch(c)})
            self.add(
                location,
                f"{value!r} cannot be an Airflow {airflow_name}: it contains {', '.join(map(repr, bad))}; "
                "use letters, digits, '_', '.' and '-'",
            )
            return False
        if len(value) > limit:
            self.add(
                location,
                f"the {what} has {len(value)} characters; at most {limit} fit an Airflow {airflow_name}",
            )
            return False
        return True

    # -- steps ---------------------------------------------------------------------------------

    def check_step_ids(self) -> None:
        for i, step in self.steps:
            sid = _str(step.get("id"))
            if sid is None:
                continue
            where = f"steps[{i}].id"
            first = self.index.get(sid)
            if first is not None:
                self.add(
                    where, f"duplicate step id {sid!r} (also used by steps[{first}]); step ids must be unique"
                )
                continue
            self.index[sid] = i
            if not self.check_airflow_id(where, sid, "step id", "task_id", MAX_STEP_ID_LENGTH):
                continue
            if "." in sid:
                self.add(
                    where,
                    f"step id {sid!r} contains '.': Airflow reserves dots for task groups, and "
                    f"'${sid}' would read field {sid.split('.', 1)[1]!r} of step {sid.split('.', 1)[0]!r}; "
                    "use '-' or '_'",
                )
            elif sid in RESERVED_STEP_IDS:
                self.add(where, f"step id {sid!r} is reserved ({RESERVED_STEP_IDS[sid]}); choose another id")
            elif sid in RESERVED_SCOPE_NAMES:
                self.add(
                    where,
                    f"step id {sid!r} is reserved: rollback params read ${sid} as "
                    f"{RESERVED_SCOPE_NAMES[sid]}; choose another id",
                )
            elif sid in BUILTIN_SCOPE_NAMES:
                self.add(
                    where,
                    f"step id {sid!r} is reserved: params read ${sid} as {BUILTIN_SCOPE_NAMES[sid]}; "
                    "choose another id",
                )

    def check_params_names(self) -> None:
        for key in self.declared:
            where = json_path(("params", key))
            if key in self.index:
                self.add(
                    where,
                    f"param {key!r} has the same name as step {key!r} (steps[{self.index[key]}]); "
                    f"'${key}' would be ambiguous: rename one of them",
                )
            elif key in RESERVED_SCOPE_NAMES:
                self.add(
                    where,
                    f"param name {key!r} is reserved: rollback params read ${key} as "
                    f"{RESERVED_SCOPE_NAMES[key]}",
                )
            elif key in BUILTIN_SCOPE_NAMES:
                self.add(
                    where, f"param name {key!r} is reserved: params read ${key} as {BUILTIN_SCOPE_NAMES[key]}"
                )
            elif not REFERENCE_NAME.fullmatch(key):
                self.add(
                    where,
                    f"param name {key!r} cannot be referenced as ${key}: start with a letter or '_' and use "
                    "only letters, digits, '_' and '-'",
                )

    def check_step_fields(self, i: int, step: Mapping[str, Any]) -> None:
        base = f"steps[{i}]"
        for key in ("action", "target"):
            value = _str(step.get(key))
            if value is not None and not value.strip():
                self.add(f"{base}.{key}", f"the step's {key} must not be empty")
        name = _str(step.get("name"))
        if name is not None and not name.strip():
            self.add(f"{base}.name", "the step name must not be empty (leave it out to use the id)")
        self.check_positive(f"{base}.timeout", step.get("timeout"))
        conn = _str(step.get("connId"))
        if conn is not None:
            self.check_airflow_id(f"{base}.connId", conn, "connection id", "conn_id", MAX_ID_LENGTH)
        rollback = step.get("rollback")
        if isinstance(rollback, Mapping):
            for key in ("action", "target"):
                value = _str(rollback.get(key))
                if value is not None and not value.strip():
                    self.add(f"{base}.rollback.{key}", f"the rollback's {key} must not be empty")
            self.check_positive(f"{base}.rollback.timeout", rollback.get("timeout"))
            conn = _str(rollback.get("connId"))
            if conn is not None:
                self.check_airflow_id(
                    f"{base}.rollback.connId", conn, "connection id", "conn_id", MAX_ID_LENGTH
                )

    def check_positive(self, location: str, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value == 0:
            self.add(location, "a timeout of 0 ms would stop every attempt at once; leave it out for none")

    # -- order ---------------------------------------------------------------------------------

    def check_dependencies(self) -> dict[str, tuple[str, ...]]:
        """Dangling and self dependencies; returns the upstream map of the ordering rule."""
        shells: list[_Shell] = []
        for i, step in self.steps:
            sid = _str(step.get("id"))
            if sid is None or self.index.get(sid) != i:
                continue
            raw = step.get("dependsOn")
            deps: list[str] | None = None
            if isinstance(raw, list):
                deps = []
                for k, dep in enumerate(raw):
                    if not isinstance(dep, str):
                        continue
                    where = f"steps[{i}].dependsOn[{k}]"
                    if dep == sid:
                        self.add(where, f"step {sid!r} depends on itself")
                    elif dep not in self.index:
                        others = (other for other in self.index if other != sid)
                        self.add(where, f"unknown step {dep!r}{suggestion(dep, others)}")
                    else:
                        deps.append(dep)
            shells.append(_Shell(sid, deps))
        return ordering.upstream_ids(shells)

    def check_cycles(self, upstream: Mapping[str, tuple[str, ...]]) -> bool:
        edges = {sid: list(parents) for sid, parents in upstream.items()}
        found = False
        for _ in range(20):  # each cycle found loses one edge; report a handful, not thousands
            cycle = ordering.find_cycle(edges)
            if cycle is None:
                break
            found = True
            # cycle is in run order: cycle[j] runs before cycle[j+1], i.e. cycle[j+1] waits for cycle[j].
            culprit: tuple[str, str] | None = None
            for before, after in itertools.pairwise(cycle):
                if self.index[before] >= self.index[after]:  # waits for a later step (or itself)
                    culprit = (after, before)
                    break
            waiter, waited = culprit or (cycle[1], cycle[0])
            raw = self.step_data(waiter).get("dependsOn")
            position = raw.index(waited) if isinstance(raw, list) and waited in raw else None
            where = f"steps[{self.index[waiter]}].dependsOn" + (
                f"[{position}]" if position is not None else ""
            )
            implicit = any(
                not isinstance(self.step_data(after).get("dependsOn"), list) for after in cycle[1:]
            )
            note = " (a step without dependsOn waits for the step listed before it)" if implicit else ""
            shown = (
                cycle if len(cycle) <= 12 else [*cycle[:6], f"... {len(cycle) - 10} more ...", *cycle[-4:]]
            )
            self.add(where, f"circular dependency: {' -> '.join(shown)}{note}")
            if waited in edges[waiter]:
                edges[waiter].remove(waited)
            else:  # pragma: no cover - find_cycle only reports existing edges
                break
        return found

    def step_data(self, sid: str) -> Mapping[str, Any]:
        return self.by_index[self.index[sid]] if sid in self.index else {}

    # -- references ----------------------------------------------------------------------------

    def iter_refs(self, params: Any, base: str, known: set[str]) -> Iterator[tuple[str, Any]]:
        if not isinstance(params, Mapping):
            return
        for key, value in params.items():
            where = json_path((str(key),), base)
            try:
                yield from find_references(value, known, where)
            except RefError as exc:
                self.add(exc.where or where, exc.message)

    def check_references(self) -> list[_Ref]:
        """Syntax, self references and unknown names; returns the step-to-step references."""
        steps_and_params = set(self.index) | set(self.declared) | set(BUILTIN_SCOPE_NAMES)
        rollback_known = steps_and_params | set(RESERVED_SCOPE_NAMES)
        strict_names = bool(self.declared)
        refs: list[_Ref] = []
        for i, step in self.steps:
            sid = _str(step.get("id"))
            own = sid if sid is not None and self.index.get(sid) == i else None
            base = f"steps[{i}].params"
            for where, ref in self.iter_refs(step.get("params"), base, steps_and_params):
                if ref.name == own:
                    self.add(
                        where,
                        f"{ref.text!r} reads this step's own result, which does not exist while its "
                        "params are resolved",
                    )
                elif ref.name in self.index:
                    if own is not None:
                        refs.append(_Ref(own, ref.name, where, ref.text, rollback=False))
                elif strict_names and ref.name not in self.declared and ref.name not in BUILTIN_SCOPE_NAMES:
                    self.unknown_name(where, ref.text, ref.name, steps_and_params)
            rollback = step.get("rollback")
            if not isinstance(rollback, Mapping):
                continue
            base = f"steps[{i}].rollback.params"
            for where, ref in self.iter_refs(rollback.get("params"), base, rollback_known):
                if ref.name == own or ref.name in RESERVED_SCOPE_NAMES or ref.name in BUILTIN_SCOPE_NAMES:
                    continue
                if ref.name in self.index:
                    if own is not None:
                        refs.append(_Ref(own, ref.name, where, ref.text, rollback=True))
                elif strict_names and ref.name not in self.declared:
                    self.unknown_name(where, ref.text, ref.name, rollback_known)
        return refs

    def unknown_name(self, where: str, text: str, name: str, candidates: set[str]) -> None:
        self.add(
            where,
            f"{text!r}: {name!r} is neither a step id nor a declared param{suggestion(name, candidates)} "
            "(write $$ for a literal dollar sign)",
        )

    def check_order(self, upstream: Mapping[str, tuple[str, ...]], refs: list[_Ref]) -> None:
        """Each referenced step must be an ancestor of the referring step under the ordering rule.

        Ancestor sets are bitsets over the referenced steps only, built in topological order and
        dropped once every dependent has read them: linear in practice, bounded memory.
        """
        pending = [r for r in refs if r.target not in upstream.get(r.step, ())]
        if not pending:
            return
        bit = {target: n for n, target in enumerate(dict.fromkeys(r.target for r in pending))}
        by_step: dict[str, list[_Ref]] = {}
        for r in pending:
            by_step.setdefault(r.step, []).append(r)
        downstream = ordering.downstream_ids(upstream)
        remaining = {sid: len(children) for sid, children in downstream.items()}
        ancestors: dict[str, int] = {}
        for sid in ordering.topological_order(upstream):
            bits = 0
            for parent in upstream[sid]:
                bits |= ancestors.get(parent, 0)
                if parent in bit:
                    bits |= 1 << bit[parent]
                remaining[parent] -= 1
                if remaining[parent] == 0:
                    ancestors.pop(parent, None)
            for r in by_step.get(sid, ()):
                if not (bits >> bit[r.target]) & 1:
                    self.not_upstream(r)
            if remaining[sid]:
                ancestors[sid] = bits

    def not_upstream(self, r: _Ref) -> None:
        if r.rollback:
            self.add(
                r.location,
                f"{r.text!r}: the rollback of {r.step!r} reads step {r.target!r}, which is neither "
                f"{r.step!r} nor upstream of it; when {r.step!r} is undone, {r.target!r} may never have "
                "run. A rollback may read its own step's result, an upstream step's, $error and $failedStep",
            )
        else:
            later = self.index.get(r.target, -1) > self.index.get(r.step, -1)
            self.add(
                r.location,
                f"{r.text!r}: step {r.target!r} is not upstream of {r.step!r} under the ordering rule"
                f"{' (it is listed later)' if later else ''}, so its result may not exist yet when "
                f"{r.step!r} runs; "
                + (
                    f"move {r.target!r} above {r.step!r}, or add it to the dependsOn of {r.step!r}"
                    if later
                    else f"add {r.target!r} to the dependsOn of {r.step!r}"
                ),
            )

    # -- Airflow extensions --------------------------------------------------------------------

    def check_schedule(self) -> None:
        schedule = _str(self.data.get("schedule"))
        if schedule is None:
            return
        text = schedule.strip()
        if not text:
            self.add("schedule", "the schedule is empty; leave it out (or null) for manual runs only")
            return
        if text.startswith("@"):
            if text not in SCHEDULE_PRESETS:
                self.add(
                    "schedule",
                    f"unknown preset {text!r}{suggestion(text, SCHEDULE_PRESETS)} "
                    f"(presets: {', '.join(SCHEDULE_PRESETS)})",
                )
            return
        fields = text.split()
        if len(fields) != 5:
            self.add(
                "schedule",
                f"{text!r} is not a cron expression: cron has 5 fields (minute hour day-of-month month "
                f"day-of-week), this has {len(fields)}; or use a preset such as @daily",
            )
            return
        from croniter import croniter  # small; imported only when a schedule is given

        try:
            valid = bool(croniter.is_valid(text))
        except Exception:  # croniter raises on some inputs instead of answering False
            valid = False
        if not valid:
            self.add(
                "schedule",
                f"{text!r} is not a valid cron expression (minute hour day-of-month month day-of-week)",
            )

    def check_start_date(self) -> None:
        start = _str(self.data.get("startDate"))
        if start is None:
            return
        try:
            datetime.fromisoformat(start.strip())
        except ValueError:
            self.add(
                "startDate",
                f"{start!r} is not an ISO date: write 2025-01-31 or 2025-01-31T09:00:00+00:00",
            )

    def check_params_schemas(self) -> None:
        if not self.declared:
            return
        try:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import best_match
            from jsonschema.validators import validator_for
        except ImportError:  # pragma: no cover - jsonschema comes with Airflow
            return
        for key, schema in self.declared.items():
            if not isinstance(schema, Mapping):
                continue  # pydantic reported it
            base = ("params", key)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cls = validator_for(schema, default=Draft202012Validator)
                    problem = best_match(cls(cls.META_SCHEMA).iter_errors(schema))
                    if problem is not None:
                        path = tuple(problem.absolute_path)
                        message = _clip(problem.message)
                        if path and path[-1] == "type":
                            message = f"{_clip(repr(problem.instance))} is not a JSON Schema type ({_TYPES})"
                        self.add(json_path((*base, *path)), f"not a valid JSON Schema: {message}")
                        continue
                    if "default" in schema:
                        problem = best_match(cls(schema).iter_errors(schema["default"]))
                        if problem is not None:
                            self.add(
                                json_path((*base, "default")),
                                f"the default does not match the param's schema: {_clip(problem.message)}",
                            )
            except RecursionError:
                self.add(json_path(base), "the schema is nested too deeply to check")
            except Exception as exc:  # a schema jsonschema cannot even walk (bad $ref, regex, ...)
                self.add(json_path(base), f"not a valid JSON Schema: {_clip(str(exc).splitlines()[0])}")


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
