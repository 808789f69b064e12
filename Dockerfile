# The image docker-compose.yaml runs: the official Airflow 3.3.2 image (Python 3.11, the version the
# tests run on) with airflow-provider-wfo and its optional extras installed, pinned by constraints.txt
# (the set the test suite passed with).
#
#   docker compose build        (or: docker build -t airflow-provider-wfo:0.1.0 .)
#
# Only the package is needed at run time: the DAG loader files come from the mounted ./dags folder.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

COPY --chown=airflow:root . /opt/airflow-provider-wfo
RUN pip install --no-cache-dir \
        --constraint /opt/airflow-provider-wfo/constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" \
        "/opt/airflow-provider-wfo[all]"
