"""``load_workflow_dags(globals())``: every workflow definition in a folder becomes a DAG.

A data team's DAG file is two lines::

    from airflow_provider_wfo import load_workflow_dags
    load_workflow_dags(globals())        # *.json / *.yaml / *.yml next to this file, recursively

**A broken definition never hides a good one.** Airflow 3.3's dag-processor files an import error
under the ``.py`` file it parsed and marks *every* DAG of that file stale (gone from the DAG list, a
trigger answers 404). An import error keyed to the definition file itself cannot be kept either: the
processor clears errors only for files it parses (``.py`` and ``.zip``), and its orphan clean-up
deletes an error filed under any other path at every bundle refresh. So the loader never lets the
file fail. Each broken definition becomes a **placeholder DAG** instead: tagged ``wfo-broken``, its
description holds ``file: location: message``, and its only task fails with that message. It takes
the definition's own ``id`` when that can be read (so a good workflow that gets a typo keeps its
history and comes back on the next parse once fixed), else ``wfo_broken.<path>``.

**A slow definition never takes the others down.** Each definition is read under its own time budget
(``[wfo] definition_parse_timeout``, 5 s), nested in Airflow's per-file ``dagbag_import_timeout``, and
the loader stops starting definitions before that file alarm can fire; the ones not reached become
placeholders saying so. ``shard=(i, n)`` splits a large folder over ``n`` loader files, each
with its own timeout and parsed in parallel by the dag-processor.

Hidden files and folders (``.name``) are not loaded, like ``wfo validate``.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
import zlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, get_parsing_context

from airflow_provider_wfo.definition.errors import DefinitionError, ValidationIssue
from airflow_provider_wfo.definition.files import definition_files
from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.definition.rules import AIRFLOW_ID, MAX_ID_LENGTH
from airflow_provider_wfo.definition.workflow_calls import call_cycle_issues
from airflow_provider_wfo.factory.budget import DefinitionTimeout, file_deadline, time_budget
from airflow_provider_wfo.factory.dag_factory import build_dag
from airflow_provider_wfo.operators.broken import WfoBrokenDefinitionOperator

log = logging.getLogger(__name__)

#: The tag of every placeholder DAG (filter the DAG list by it).
BROKEN_TAG = "wfo-broken"
#: dag_id prefix of a placeholder whose definition has no readable id.
BROKEN_PREFIX = "wfo_broken."
#: The placeholder's only task.
BROKEN_TASK_ID = "definition_error"
#: Seconds one definition may take to read, check and build (``[wfo] definition_parse_timeout``).
DEFAULT_DEFINITION_TIMEOUT_S = 5.0
_MAX_DESCRIPTION = 2000


@dataclass
class _Broken:
    path: Path
    shown: str
    problems: list[str]
    claimed_id: str | None


def definition_timeout() -> float:
    from airflow.configuration import conf

    return conf.getfloat("wfo", "definition_parse_timeout", fallback=DEFAULT_DEFINITION_TIMEOUT_S)


def shard_of(relative: str, count: int) -> int:
    """Which of ``count`` loader files (1-based) loads the definition at this relative path: stable
    across runs and machines, so adding a file never moves another one."""
    return zlib.crc32(relative.encode("utf-8", "surrogatepass")) % count + 1


def _caller_folder(namespace: MutableMapping[str, Any]) -> Path:
    file = namespace.get("__file__")
    if not file:
        frame = inspect.stack()[2]
        file = frame.filename
    return Path(str(file)).resolve().parent


def _shown(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _problem_lines(shown: str, exc: BaseException) -> list[str]:
    if isinstance(exc, DefinitionError):
        return [f"{shown}: {issue.location}: {issue.message}" for issue in exc.issues]
    if isinstance(exc, DefinitionTimeout):
        return [
            f"{shown}: (document): reading and checking the definition {exc}; it was skipped so that "
            "the other definitions load (raise [wfo] definition_parse_timeout if it is just big)"
        ]
    return [f"{shown}: {type(exc).__name__}: {exc}"]


def _readable_id(data: Any) -> str | None:
    value = data.get("id") if isinstance(data, dict) else None
    if isinstance(value, str) and len(value) <= MAX_ID_LENGTH and AIRFLOW_ID.fullmatch(value):
        return value
    return None


def _path_id(shown: str) -> str:
    safe = "".join(c if c.isalnum() or c in "_.-" else "_" for c in shown)
    return (BROKEN_PREFIX + safe)[:MAX_ID_LENGTH]


def _check(data: Any, source: str) -> WorkflowDefinition:
    from airflow_provider_wfo.definition.loading import definition_from_data

    return definition_from_data(data, source=source)


def load_workflow_dags(
    namespace: MutableMapping[str, Any],
    folder: str | Path | None = None,
    *,
    shard: tuple[int, int] | None = None,
) -> dict[str, DAG]:
    """Build one DAG per definition under ``folder`` (default: the calling file's folder) into
    ``namespace`` (pass ``globals()``). Returns the DAGs by dag_id, placeholders of broken
    definitions included. ``shard=(i, n)``: only the definitions :func:`shard_of` gives to file
    ``i`` of ``n``."""
    root = Path(folder).resolve() if folder is not None else _caller_folder(namespace)
    if shard is not None and not (shard[1] >= 1 and 1 <= shard[0] <= shard[1]):
        raise ValueError(f"shard must be (i, n) with 1 <= i <= n, got {shard!r}")
    # A worker re-parses this file to run one task of one DAG; Airflow names that DAG in the parsing
    # context, so the others need not be built (bench: a tenth of a Celery worker's samples).
    load = _Load(root, namespace, shard, get_parsing_context().dag_id, definition_timeout())
    before = {id(entry) for entry in _registered()}
    paths = definition_files(root)
    started = time.monotonic()
    deadline = file_deadline()
    for index, path in enumerate(paths):
        shown = _shown(path, root)
        if not load.mine(shown):
            continue
        if deadline is not None and time.monotonic() >= deadline:
            load.out_of_time(paths[index:])
            break
        load.one(path, shown)
    _refuse_call_cycles(load.read, load.dags, namespace, load.broken)
    load.add_placeholders()
    _forget_half_built(before, load.dags)
    if deadline is not None and load.wanted is None:
        _warn_if_near_budget(time.monotonic() - started, deadline - started, len(load.dags), shard)
    return load.dags


@dataclass
class _Load:
    """One import of a loader file: what it read, what it built and what it could not load."""

    root: Path
    namespace: MutableMapping[str, Any]
    shard: tuple[int, int] | None
    #: The one DAG a worker's parse needs (None: all of them).
    wanted: str | None
    budget: float
    dags: dict[str, DAG] = field(default_factory=dict)
    broken: list[_Broken] = field(default_factory=list)
    #: dag_id -> the file that defines it (a second file with the same id is broken).
    sources: dict[str, Path] = field(default_factory=dict)
    read: dict[str, tuple[Path, str, WorkflowDefinition]] = field(default_factory=dict)

    def mine(self, shown: str) -> bool:
        return self.shard is None or shard_of(shown, self.shard[1]) == self.shard[0]

    def add(self, dag: DAG) -> None:
        self.dags[dag.dag_id] = dag
        self.namespace[_global_name(dag.dag_id)] = dag

    def one(self, path: Path, shown: str) -> None:
        """Read, check and build one definition under its own budget; a failure is a broken entry."""
        from airflow_provider_wfo.definition.loading import read_definition_data

        data: Any = None
        try:
            started = time.monotonic()
            with time_budget(self.budget):
                data = read_definition_data(path)
                defn = _check(data, str(path))
                self.read.setdefault(defn.id, (path, shown, defn))
                if self.wanted is not None and defn.id != self.wanted:
                    self.sources.setdefault(defn.id, path)
                    return
                if defn.id in self.sources:
                    used = f"workflow id {defn.id!r} is already used by {self.sources[defn.id]}"
                    raise DefinitionError([ValidationIssue("id", used)], str(path))
                dag = build_dag(defn)
            log.debug("wfo: %s loaded in %.3f s", shown, time.monotonic() - started)
        except Exception as exc:
            lines = _problem_lines(shown, exc)
            log.error("wfo: invalid workflow definition %s\n%s", path, "\n".join(lines))
            claimed = _readable_id(data) if not isinstance(exc, DefinitionTimeout) else None
            self.broken.append(_Broken(path, shown, lines, claimed))
            return
        self.sources[defn.id] = path
        self.add(dag)

    def out_of_time(self, rest: list[Path]) -> None:
        """The file's time is up: the definitions not reached become placeholders that say so."""
        for path in rest:
            shown = _shown(path, self.root)
            if not self.mine(shown):
                continue
            message = (
                f"{shown}: (document): not loaded: this loader file used up its time budget "
                "([core] dagbag_import_timeout, and time left for Airflow to serialize the DAGs within "
                "[dag_processor] dag_file_processor_timeout) before reaching it; split the folder over "
                "more loader files with `wfo init DIR --force --shards N`"
            )
            self.broken.append(_Broken(path, shown, [message], None))
        log.error("wfo: loader time budget used up; %d definition(s) not loaded", len(self.broken))

    def add_placeholders(self) -> None:
        """A placeholder per broken definition, under the definition's own id when it could be read
        and nobody else holds it (so the fixed file comes back in place), else under its path."""
        for refused in (b.claimed_id for b in self.broken):
            if refused in self.read and refused not in self.dags:
                self.sources.pop(refused, None)
        for item in self.broken:
            dag_id = item.claimed_id
            if dag_id is None or dag_id in self.sources or dag_id in self.dags:
                dag_id = _path_id(item.shown)
            if self.wanted is None or dag_id == self.wanted:
                self.add(_placeholder(dag_id, item))


def _warn_if_near_budget(spent: float, allowed: float, count: int, shard: tuple[int, int] | None) -> None:
    """A folder grows: say so while every definition still loads, with the number of loader files that
    would keep each one under half of what it may take."""
    if allowed <= 0 or spent <= allowed / 2:
        return
    files = shard[1] if shard is not None else 1
    wanted = max(files + 1, math.ceil(files * spent / (allowed / 2)))
    log.warning(
        "wfo: this loader file took %.1f s of the %.1f s it may spend building its %d DAGs (Airflow then "
        "serializes them within [dag_processor] dag_file_processor_timeout); split the folder before it "
        "grows further: `wfo init DIR --force --shards %d`",
        spent,
        allowed,
        count,
        wanted,
    )


def _refuse_call_cycles(
    read: dict[str, tuple[Path, str, WorkflowDefinition]],
    dags: dict[str, DAG],
    namespace: MutableMapping[str, Any],
    broken: list[_Broken],
) -> None:
    """Definitions that call each other in a cycle (``workflow.run``) become broken definitions: the
    cycle needs every definition read from this folder (this shard's, with ``shard=``) to be seen."""
    for workflow_id, issues in call_cycle_issues(defn for _, _, defn in read.values()).items():
        path, shown, _ = read[workflow_id]
        lines = _problem_lines(shown, DefinitionError(issues, str(path)))
        log.error("wfo: invalid workflow definition %s\n%s", path, "\n".join(lines))
        dags.pop(workflow_id, None)
        namespace.pop(_global_name(workflow_id), None)
        broken.append(_Broken(path, shown, lines, workflow_id))


def _registered() -> set[Any]:
    """The DAGs Airflow auto-registered so far in this import (empty outside the DagBag)."""
    try:
        from airflow.sdk.definitions._internal.contextmanager import DagContext
    except ImportError:  # pragma: no cover - another Airflow layout: nothing is auto-registered
        return set()
    return DagContext.autoregistered_dags


def _forget_half_built(before: set[int], kept: dict[str, DAG]) -> None:
    """Airflow registers every DAG whose ``with`` block ends, even by an exception: a definition whose
    build failed half-way (or timed out) must not reach the DagBag next to its placeholder."""
    registered = _registered()
    ours = {id(dag) for dag in kept.values()}
    stray = {entry for entry in registered if id(entry) not in before and id(entry[0]) not in ours}
    registered.difference_update(stray)


def _global_name(dag_id: str) -> str:
    return "wfo_dag__" + "".join(c if c.isalnum() else "_" for c in dag_id)


def _placeholder(dag_id: str, item: _Broken) -> DAG:
    """A visible stand-in for a broken definition: its problems in the description and the docs, and
    one task that fails with them. No schedule: a broken workflow must not run on its own."""
    text = "\n".join(item.problems)
    description = text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"
    with DAG(
        dag_id=dag_id,
        dag_display_name=f"{item.shown} (broken definition)",
        description=description,
        schedule=None,
        tags=[BROKEN_TAG],
        doc_md="**This workflow definition could not be loaded.** Fix the file; the DAG comes back on "
        "the next parse.\n\n```\n" + text.replace("```", "'''") + "\n```\n",
    ) as dag:
        WfoBrokenDefinitionOperator(task_id=BROKEN_TASK_ID, problems=item.problems, retries=0)
    return dag
