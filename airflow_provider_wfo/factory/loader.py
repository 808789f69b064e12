"""``load_workflow_dags(globals())``: every workflow definition in a folder becomes a DAG.

A data team's DAG file is two lines::

    from airflow_provider_wfo import load_workflow_dags
    load_workflow_dags(globals())        # *.json / *.yaml / *.yml next to this file, recursively

One broken definition never hides the others. Airflow records an import error only when the whole
file fails to import, which would hide the good DAGs too. Instead, the broken definitions are collected
into one placeholder object (a ``DAG`` subclass) bound in the module: the DagBag calls ``validate()`` on
every DAG it finds *before* bagging it, records a failing one as an import error of the loader file
(``dagbag.import_errors``, the UI's "Dag Import Errors" banner, ``airflow dags list-import-errors``) and
goes on with the others. The message names each broken file with the location and the problem.
Hidden files and folders (``.name``) are not loaded, like ``wfo validate``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, get_parsing_context

from airflow_provider_wfo.definition.errors import DefinitionError, ValidationIssue
from airflow_provider_wfo.definition.files import definition_files
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.factory.dag_factory import build_dag

log = logging.getLogger(__name__)

#: Module-level name of the placeholder that carries the broken definitions.
BROKEN_NAME = "wfo_invalid_workflow_definitions"


class WorkflowDefinitionsError(Exception):
    """Shown as the import error of the loader file: which definitions are broken, where and why."""


class InvalidDefinitionsDag(DAG):
    """Placeholder never bagged: ``validate()`` raises the collected definition errors."""

    wfo_problems: tuple[str, ...] = ()

    def validate(self) -> None:
        raise WorkflowDefinitionsError(
            f"{len(self.wfo_problems)} workflow definition(s) could not be loaded "
            "(the other definitions in this folder loaded):\n" + "\n".join(self.wfo_problems)
        )


def _read_definition(path: Path) -> WorkflowDefinition:
    """Parse and fully validate (the same checks as ``wfo validate``); DefinitionError otherwise."""
    from airflow_provider_wfo.definition.loading import load_definition_file

    return load_definition_file(path)


def _caller_folder(namespace: MutableMapping[str, Any]) -> Path:
    file = namespace.get("__file__")
    if not file:
        frame = inspect.stack()[2]
        file = frame.filename
    return Path(str(file)).resolve().parent


def _problem_lines(path: Path, folder: Path, exc: Exception) -> list[str]:
    try:
        shown = str(path.relative_to(folder))
    except ValueError:
        shown = str(path)
    if isinstance(exc, DefinitionError):
        return [f"{shown}: {issue.location}: {issue.message}" for issue in exc.issues]
    return [f"{shown}: {type(exc).__name__}: {exc}"]


def load_workflow_dags(
    namespace: MutableMapping[str, Any], folder: str | Path | None = None
) -> dict[str, DAG]:
    """Build one DAG per definition under ``folder`` (default: the calling file's folder) into
    ``namespace`` (pass ``globals()``). Returns the DAGs by dag_id."""
    root = Path(folder).resolve() if folder is not None else _caller_folder(namespace)
    dags: dict[str, DAG] = {}
    problems: list[str] = []
    sources: dict[str, Path] = {}
    # A worker re-parses this file to run one task of one DAG; Airflow names that DAG in the parsing
    # context, so the others need not be built (bench: a tenth of a Celery worker's samples).
    wanted = get_parsing_context().dag_id
    for path in definition_files(root):
        try:
            defn = _read_definition(path)
            if wanted is not None and defn.id != wanted:
                sources.setdefault(defn.id, path)
                continue
            if defn.id in sources:
                raise DefinitionError(
                    [ValidationIssue("id", f"workflow id {defn.id!r} is already used by {sources[defn.id]}")],
                    str(path),
                )
            dag = build_dag(defn)
        except Exception as exc:
            lines = _problem_lines(path, root, exc)
            log.error("wfo: invalid workflow definition %s\n%s", path, "\n".join(lines))
            problems.extend(lines)
            continue
        sources[defn.id] = path
        dags[dag.dag_id] = dag
        namespace[_global_name(dag.dag_id)] = dag
    if problems:
        # A second call in the same file (another folder) adds to the first call's report.
        earlier = namespace.get(BROKEN_NAME)
        before = earlier.wfo_problems if isinstance(earlier, InvalidDefinitionsDag) else ()
        namespace[BROKEN_NAME] = _placeholder([*before, *problems])
    return dags


def _global_name(dag_id: str) -> str:
    return "wfo_dag__" + "".join(c if c.isalnum() else "_" for c in dag_id)


def _placeholder(problems: Sequence[str]) -> InvalidDefinitionsDag:
    placeholder = InvalidDefinitionsDag(dag_id=BROKEN_NAME, schedule=None)
    placeholder.wfo_problems = tuple(problems)
    return placeholder
