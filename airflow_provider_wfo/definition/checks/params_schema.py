"""Each declared param's JSON Schema: a valid schema, with a default that matches it.

The schema is first walked for what would make checking it unsafe (a remote ``$ref``, a pattern
RE2 cannot run, ``patternProperties``: see :mod:`..params_dialect`); a schema with such a problem
is reported and never handed to ``jsonschema``, so validation opens no connection and never
backtracks. The rest is checked with the params dialect (``pattern`` on RE2) and an empty
reference registry, which resolves nothing remote even if the walk missed a reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.definition.checks.context import Context, clip
from airflow_provider_wfo.definition.errors import json_path
from airflow_provider_wfo.definition.params_dialect import (
    ParamsValidator,
    schema_problems,
    with_dialect,
)

__all__ = ["check_params_schemas"]

_TYPES = "string, number, integer, boolean, object, array, null"


def check_params_schemas(ctx: Context) -> None:
    if not ctx.declared:
        return
    from jsonschema.exceptions import best_match
    from referencing import Registry

    offline: Registry[Any] = Registry()  # no retrieve function: nothing is ever fetched
    for key, schema in ctx.declared.items():
        if not isinstance(schema, Mapping):
            continue  # pydantic reported it
        base = ("params", key)
        unsafe = schema_problems(schema)
        for path, message in unsafe:
            ctx.add(json_path((*base, *path)), message)
        if unsafe:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cls = ParamsValidator
                problem = best_match(cls(cls.META_SCHEMA).iter_errors(schema))
                if problem is not None:
                    path = tuple(problem.absolute_path)
                    message = clip(problem.message)
                    if path and path[-1] == "type":
                        message = f"{clip(repr(problem.instance))} is not a JSON Schema type ({_TYPES})"
                    ctx.add(json_path((*base, *path)), f"not a valid JSON Schema: {message}")
                    continue
                if "default" in schema:
                    stamped = with_dialect(schema)  # as the DAG will carry it
                    problem = best_match(cls(stamped, registry=offline).iter_errors(schema["default"]))
                    if problem is not None:
                        ctx.add(
                            json_path((*base, "default")),
                            f"the default does not match the param's schema: {clip(problem.message)}",
                        )
        except RecursionError:
            ctx.add(json_path(base), "the schema is nested too deeply to check")
        except Exception as exc:  # a schema jsonschema cannot even walk (bad $ref, regex, ...)
            ctx.add(json_path(base), f"not a valid JSON Schema: {clip(str(exc).splitlines()[0])}")
