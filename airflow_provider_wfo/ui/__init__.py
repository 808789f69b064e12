"""The workflow view: a FastAPI app the wfo plugin mounts in the Airflow api-server under ``/wfo``."""
