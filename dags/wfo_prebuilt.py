"""The pre-built workflows shipped in airflow-provider-wfo become Airflow DAGs: wfo_invoice,
wfo_bug_report, wfo_meeting and wfo_report, each with a trigger form (Trigger DAG -> the seed's fields)."""

from airflow_provider_wfo import load_workflow_dags
from airflow_provider_wfo.prebuilt.definitions import prebuilt_folder

load_workflow_dags(globals(), folder=prebuilt_folder())
