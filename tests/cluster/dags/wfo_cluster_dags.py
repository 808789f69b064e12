"""DAG file of the cluster tests: the definitions next to it, plus the test-only actions.

The dag-processor and every Celery worker import this file (a worker parses the DAG file of each task
it runs), so the actions it registers exist wherever a task runs.
"""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import wfo_test_actions  # noqa: E402, F401  (target "test": do / undo)
from cluster import cluster_actions  # noqa: E402, F401  (target "clustertest")

from airflow_provider_wfo import load_workflow_dags  # noqa: E402

load_workflow_dags(globals())
