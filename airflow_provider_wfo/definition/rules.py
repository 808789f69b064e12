"""The limits and reserved names of the definition language, in one place.

Loading, validation and the run-time checks of run conf all read their bounds from here, so a
limit is stated once and documented once (``docs/definition-language.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "AIRFLOW_ID",
    "BUILTIN_SCOPE_NAMES",
    "COMPENSATION_PREFIX",
    "ITEM_SCOPE_NAMES",
    "MAX_CONF_BYTES",
    "MAX_DEFINITION_BYTES",
    "MAX_ID_LENGTH",
    "MAX_NESTING",
    "MAX_STEPS",
    "MAX_STEP_ID_LENGTH",
    "MAX_TAG_LENGTH",
    "MAX_YAML_ALIASED_NODES",
    "MAX_YAML_EXPANDED_CHARS",
    "MAX_YAML_NODES",
    "REFERENCE_NAME",
    "RESERVED_SCOPE_NAMES",
    "RESERVED_STEP_IDS",
    "RUN_FIELDS",
    "SCHEDULE_PRESETS",
    "WORKFLOW_ID_START",
]

#: A definition is a few kilobytes; 16 MiB leaves room for large inline data and still bounds time.
MAX_DEFINITION_BYTES = 16 * 1024 * 1024
#: Run conf reaches every step's scope and Airflow stores and shows it with the run: 1 MiB is far
#: more than a trigger form or an API call sends, and small enough to copy into every task.
MAX_CONF_BYTES = 1024 * 1024
#: Deepest nesting of objects and lists in a whole definition (params may nest 64 levels).
MAX_NESTING = 100
#: Steps per workflow. 5,000 is the largest definition the benchmark parses on the real dag-processor
#: (bench/, docs/performance.md); beyond that a DAG's parse and a local ``wfo run`` (Airflow's
#: ``dag.test`` loop scans every task instance per pass) grow too slow to be useful.
MAX_STEPS = 5_000
#: YAML aliases can make a small file expand to a huge value ("billion laughs"); count expanded nodes.
MAX_YAML_NODES = 2_000_000
#: Of which at most this many may come from expanding aliases (each use is a copy).
MAX_YAML_ALIASED_NODES = 100_000
#: And the text of every value, aliases expanded, may total at most what a definition file may hold:
#: one alias of a 1 MB string counts as 1 MB, so a 1.3 MB file cannot expand to gigabytes.
MAX_YAML_EXPANDED_CHARS = MAX_DEFINITION_BYTES

#: What Airflow accepts as a dag_id / task_id.
AIRFLOW_ID = re.compile(r"[A-Za-z0-9_.-]+")
MAX_ID_LENGTH = 250
#: A workflow id also names files (the copy ``wfo run`` installs, log files): it starts with a
#: letter or digit, so it is never ``..``, a dotfile or something that reads as an option.
WORKFLOW_ID_START = re.compile(r"[A-Za-z0-9]")
#: A compensation task is ``compensate.<step id>``; it must still fit in Airflow's 250 characters.
COMPENSATION_PREFIX = "compensate."
MAX_STEP_ID_LENGTH = MAX_ID_LENGTH - len(COMPENSATION_PREFIX)
#: Airflow's limit on a DAG tag.
MAX_TAG_LENGTH = 100
#: A name that ``$name`` can refer to (see references.py).
REFERENCE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

#: Task ids the DAG factory uses for its own tasks.
RESERVED_STEP_IDS: Mapping[str, str] = {
    "saga_decision": "the saga gate task",
    "workflow_result": "the result task",
    "compensate": "the task group of the compensations",
    "foreach": "the task group of the forEach list resolvers",
}
#: Names a forEach step's params and rollback can read: the item and its position.
ITEM_SCOPE_NAMES: Mapping[str, str] = {
    "item": "the current item of the forEach list",
    "index": "the current item's position in the forEach list (0-based)",
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
#: The fields of ``$run`` (operators/outcome.run_builtin gives exactly these; each is text or null).
RUN_FIELDS: Mapping[str, str] = {
    "date": "the run's date, YYYY-MM-DD (UTC, of the logical date or the run start)",
    "runId": "the Airflow run id",
    "dagId": "the Airflow dag_id (the workflow id)",
    "startTime": "when the run started (ISO 8601)",
    "logicalDate": "the run's logical date (ISO 8601; null for a run without one)",
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
