"""Each declared param's JSON Schema: a valid schema, with a default that matches it."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from airflow_provider_wfo.definition.checks.context import Context, clip
from airflow_provider_wfo.definition.errors import json_path

__all__ = ["check_params_schemas"]

_TYPES = "string, number, integer, boolean, object, array, null"


def check_params_schemas(ctx: Context) -> None:
    if not ctx.declared:
        return
    try:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for
    except ImportError:  # pragma: no cover - jsonschema comes with Airflow
        return
    for key, schema in ctx.declared.items():
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
                    message = clip(problem.message)
                    if path and path[-1] == "type":
                        message = f"{clip(repr(problem.instance))} is not a JSON Schema type ({_TYPES})"
                    ctx.add(json_path((*base, *path)), f"not a valid JSON Schema: {message}")
                    continue
                if "default" in schema:
                    problem = best_match(cls(schema).iter_errors(schema["default"]))
                    if problem is not None:
                        ctx.add(
                            json_path((*base, "default")),
                            f"the default does not match the param's schema: {clip(problem.message)}",
                        )
        except RecursionError:
            ctx.add(json_path(base), "the schema is nested too deeply to check")
        except Exception as exc:  # a schema jsonschema cannot even walk (bad $ref, regex, ...)
            ctx.add(json_path(base), f"not a valid JSON Schema: {clip(str(exc).splitlines()[0])}")
