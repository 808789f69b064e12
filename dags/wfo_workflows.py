"""Every workflow definition (*.json, *.yaml) under this folder becomes an Airflow DAG."""

from airflow_provider_wfo import load_workflow_dags

load_workflow_dags(globals())
