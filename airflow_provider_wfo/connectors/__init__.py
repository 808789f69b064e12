"""Built-in connectors: one module per target, each with a real and a local (workspace) backend.

Modules register their actions with :func:`~airflow_provider_wfo.actions.registry.register_builtin`
when imported; the registry imports them on first use inside a running task, never at parse time.
"""
