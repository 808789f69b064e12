"""Each pre-built workflow's ``params`` (the Airflow trigger form) takes the seed's example values and
refuses wrong types -- checked with jsonschema directly, with Airflow's Param/ParamsDict, and with the
package's own pre-run check."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from airflow.sdk import Param
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.exceptions import ParamValidationError

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.prebuilt.definitions import (
    PREBUILT_FILES,
    ConfValidationError,
    check_conf,
    conf_errors,
    load_prebuilt,
    prebuilt_json,
)

from .seed_examples import OPTIONAL_KEYS, SEED_CONF, WRONG_VALUES

NAMES = sorted(PREBUILT_FILES)

# Params a pre-built workflow adds beyond the seed's request fields; each has a default, so the
# seed's conf still triggers it unchanged (issue 15: the invoice's approval threshold).
EXTRA_PARAMS: dict[str, set[str]] = {"invoice": {"approvalThreshold"}}


def _airflow_params(defn: WorkflowDefinition) -> ParamsDict:
    # The factory turns each schema into Param(**schema); do the same here.
    return ParamsDict({key: Param(**copy.deepcopy(schema)) for key, schema in defn.params.items()})


def _schema(defn: WorkflowDefinition, key: str) -> dict[str, Any]:
    return {k: v for k, v in defn.params[key].items() if k not in {"default", "description"}}


@pytest.mark.parametrize("name", NAMES)
def test_definition_is_valid_and_params_are_json_schemas(name: str) -> None:
    raw = prebuilt_json(name)
    defn = WorkflowDefinition.model_validate(raw)
    assert defn.params, "a pre-built workflow must drive the trigger form"
    for key, schema in defn.params.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema.get("description"), f"{name}.{key} needs a description for the form"
        assert schema.get("type"), f"{name}.{key} needs a type"
        if "default" in schema:
            jsonschema.validate(
                schema["default"], _schema(defn, key), format_checker=jsonschema.FormatChecker()
            )


@pytest.mark.parametrize("name", NAMES)
def test_form_asks_for_exactly_the_seed_fields(name: str) -> None:
    defn = load_prebuilt(name)
    extra = EXTRA_PARAMS.get(name, set())
    assert set(defn.params) == set(SEED_CONF[name]) | extra
    assert all("default" in defn.params[key] for key in extra)
    required = {key for key, schema in defn.params.items() if "default" not in schema}
    assert required == set(SEED_CONF[name]) - OPTIONAL_KEYS[name]


@pytest.mark.parametrize("name", NAMES)
def test_seed_example_accepted(name: str) -> None:
    defn = load_prebuilt(name)
    conf = SEED_CONF[name]
    for key, value in conf.items():
        jsonschema.validate(value, _schema(defn, key), format_checker=jsonschema.FormatChecker())
    params = _airflow_params(defn)
    params.update(copy.deepcopy(conf))
    resolved = params.validate()
    defaults = {key: defn.params[key]["default"] for key in EXTRA_PARAMS.get(name, set())}
    assert resolved == {**defaults, **conf}
    assert conf_errors(defn, conf) == []
    check_conf(defn, conf)


@pytest.mark.parametrize("name", NAMES)
def test_optional_fields_fall_back_to_defaults(name: str) -> None:
    defn = load_prebuilt(name)
    conf = {k: v for k, v in SEED_CONF[name].items() if k not in OPTIONAL_KEYS[name]}
    params = _airflow_params(defn)
    params.update(copy.deepcopy(conf))
    resolved = params.validate()
    for key in OPTIONAL_KEYS[name]:
        assert resolved[key] == defn.params[key]["default"]
    check_conf(defn, conf)


CASES = [(name, key, value) for name in NAMES for key, value in WRONG_VALUES[name]]


@pytest.mark.parametrize(("name", "key", "value"), CASES, ids=[f"{n}-{k}-{v!r}" for n, k, v in CASES])
def test_wrong_value_refused(name: str, key: str, value: Any) -> None:
    defn = load_prebuilt(name)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, _schema(defn, key), format_checker=jsonschema.FormatChecker())
    params = _airflow_params(defn)
    conf = {**SEED_CONF[name], key: value}
    with pytest.raises(ParamValidationError):
        params.update(copy.deepcopy(conf))
        params.validate()
    with pytest.raises(ConfValidationError) as info:
        check_conf(defn, conf)
    assert any(message.startswith(key) for message in info.value.errors), info.value.errors


@pytest.mark.parametrize("name", NAMES)
def test_missing_required_field_refused(name: str) -> None:
    defn = load_prebuilt(name)
    for key in set(SEED_CONF[name]) - OPTIONAL_KEYS[name]:
        conf = {k: v for k, v in SEED_CONF[name].items() if k != key}
        params = _airflow_params(defn)
        params.update(copy.deepcopy(conf))
        with pytest.raises(ParamValidationError):
            params.validate()
        assert conf_errors(defn, conf) == [f"{key}: required (no value passed and the param has no default)"]


def test_severity_is_the_seed_enum() -> None:
    assert load_prebuilt("bug_report").params["severity"]["enum"] == ["Low", "Medium", "High", "Critical"]


@pytest.mark.parametrize(
    ("name", "key"),
    [("invoice", "dueDate"), ("meeting", "date"), ("report", "dueDate")],
)
def test_dates_have_the_date_format(name: str, key: str) -> None:
    # format "date" gives the trigger form a date picker and makes the format checker refuse "15/02/2025".
    assert load_prebuilt(name).params[key]["format"] == "date"


def test_seed_step_ids_are_kept() -> None:
    ids = {name: [step.id for step in load_prebuilt(name).steps] for name in NAMES}
    assert "file-drive" in ids["invoice"]
    assert "create-card" in ids["bug_report"]
    assert "create-notion" in ids["meeting"]
    assert ids["report"][:2] == ["file-report", "create-review-task"]
