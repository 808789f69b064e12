"""Triggers: the code that runs on Airflow's triggerer while a step waits without a worker slot.

Every module here must stay importable by the triggerer process (classpath in the ``trigger``
table) and cheap to import: no connector, no factory.
"""
