"""No credentials in a definition: a URL that carries a password (``scheme://user:password@host``).

A definition is code: it lives in git, in the dags folder, in the serialized DAG in Airflow's
database and in the UI. A password written into it is in all of those, in clear, and no masker can
take it out again without breaking the request. Credentials belong in an Airflow connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_wfo.definition.checks.context import Context
from airflow_provider_wfo.definition.errors import json_path
from airflow_provider_wfo.redaction import strip_url_credentials

__all__ = ["check_credentials"]

MESSAGE = (
    "this URL holds a password (user:password@); a definition is stored in clear (git, the "
    "serialized DAG, the UI): put the login and password in an Airflow connection and call it "
    "with 'endpoint' and 'connId'"
)


def check_credentials(ctx: Context) -> None:
    """Every string of the definition (iteratively: the loader bounds the nesting, not the width)."""
    reported = {issue.location for issue in ctx.issues}  # e.g. a poll's url, refused already
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), ctx.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "://" in value and strip_url_credentials(value) != value:
                where = json_path(path)
                if where not in reported:
                    ctx.add(where, MESSAGE)
        elif isinstance(value, Mapping):
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
