"""The four pre-built workflow definitions shipped in the package, and checks of a run conf against them.

The JSON files next to this module are the definitions; everything else (the DAGs in ``dags/``, the
``handle_*`` functions, the docs) reads them from here, so there is one copy of each workflow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from airflow_provider_wfo.definition.models import WorkflowDefinition

#: Short name -> file shipped in this package.
PREBUILT_FILES: dict[str, str] = {
    "invoice": "invoice.json",
    "bug_report": "bug_report.json",
    "meeting": "meeting.json",
    "report": "report.json",
}


class ConfValidationError(ValueError):
    """A run conf that the workflow's ``params`` schema refuses (Airflow would refuse it too)."""

    def __init__(self, workflow_id: str, errors: list[str]) -> None:
        self.workflow_id = workflow_id
        self.errors = errors
        super().__init__(f"invalid conf for {workflow_id}: " + "; ".join(errors))


def prebuilt_folder() -> Path:
    """The folder holding the shipped definitions (a loader can point ``folder=`` at it)."""
    return Path(str(resources.files(__package__ or "airflow_provider_wfo.prebuilt")))


def prebuilt_json(name: str) -> dict[str, Any]:
    """The raw JSON of a shipped definition, as a fresh dict."""
    try:
        file_name = PREBUILT_FILES[name]
    except KeyError:
        raise KeyError(f"no pre-built workflow {name!r}; known: {', '.join(PREBUILT_FILES)}") from None
    data: dict[str, Any] = json.loads((prebuilt_folder() / file_name).read_text(encoding="utf-8"))
    return data


@cache
def _definition(name: str) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(prebuilt_json(name))


def load_prebuilt(name: str) -> WorkflowDefinition:
    """A shipped definition (``invoice``, ``bug_report``, ``meeting``, ``report``) as a model copy."""
    return _definition(name).model_copy(deep=True)


def conf_errors(defn: WorkflowDefinition, conf: Mapping[str, Any]) -> list[str]:
    """What Airflow's Param validation would say about ``conf``: one message per bad or missing key.

    Airflow checks each Param on its own with ``jsonschema.validate(value, schema, FormatChecker())``
    (in the params dialect our DAGs carry); this does the same so that a local run refuses exactly
    what a deployment refuses. A key the workflow does not declare is refused too (docs/decisions.md).
    """
    from jsonschema import FormatChecker

    from airflow_provider_wfo.definition.params_dialect import ParamsValidator, with_dialect

    errors: list[str] = [
        f"{key}: not a param of this workflow (its params: {', '.join(sorted(defn.params))})"
        for key in conf
        if defn.params and key not in defn.params
    ]
    for key, raw_schema in defn.params.items():
        schema = {k: v for k, v in raw_schema.items() if k not in {"default", "description"}}
        if key in conf:
            value = conf[key]
        elif "default" in raw_schema:
            value = raw_schema["default"]
        else:
            errors.append(f"{key}: required (no value passed and the param has no default)")
            continue
        # the dialect the DAG carries: pattern on RE2, its patternMessage, no NaN numbers
        validator = ParamsValidator(with_dialect(schema), format_checker=FormatChecker())
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
            where = "".join(f"[{p}]" for p in error.path)
            errors.append(f"{key}{where}: {error.message}")
    return errors


def check_conf(defn: WorkflowDefinition, conf: Mapping[str, Any]) -> None:
    errors = conf_errors(defn, conf)
    if errors:
        raise ConfValidationError(defn.id, errors)
