"""The local backends: every target's state under one workspace folder (connection type ``wfo_local``)."""

from __future__ import annotations

from airflow_provider_wfo.connectors.spec import LOCAL_CONN_TYPE, ConnectionType, ConnField

#: The one connection type every connector's local backend shares.
CONNECTION = ConnectionType(
    conn_type=LOCAL_CONN_TYPE,
    hook_class="airflow_provider_wfo.connectors.hooks.local.WfoLocalHook",
    hook_name="wfo local workspace",
    hidden_fields=("host", "schema", "login", "password", "port"),
    fields={
        "workspace": ConnField(
            "Workspace folder", "Absolute path; every local backend keeps its state under it."
        ),
        "allowed_paths": ConnField(
            "Allowed input folders",
            "Folders (os.pathsep-separated) drive file_document may read filePath from, "
            "besides <workspace>/inbox.",
        ),
    },
)
