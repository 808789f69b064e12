"""Test-only actions for the cluster tests (target ``clustertest``), loaded by dags/wfo_cluster_dags.py.

``file_then_hold``: files a document through the real ``drive`` action (local backend, so the side
effect is a file in the cluster's workspace), then, on the first attempt only, writes its pid and
the filed document's id to ``<workspace>/holding/<marker>.json`` and holds for ``hold`` seconds.
The worker-kill test SIGKILLs the worker during that hold: the document exists, the task never
reported success, so Airflow retries it on the other worker and the retry must find the document by
its idempotency key instead of filing a second one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, get_action, register_action

TARGET = "clustertest"


def holding_dir() -> Path:
    return Path(os.environ["WFO_WORKSPACE"]) / "holding"


@register_action(TARGET, "file_then_hold")
def file_then_hold(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    hold = float(params.get("hold", 0))
    marker_name = str(params.get("marker", ctx.step_id))
    drive_params = {k: v for k, v in params.items() if k not in ("hold", "marker")}
    drive_ctx = dataclasses.replace(ctx, target="drive", action="file_document")
    result = dict(get_action("drive", "file_document")(drive_params, drive_ctx) or {})
    if ctx.attempt == 1 and hold > 0:
        folder = holding_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{marker_name}.tmp"
        tmp.write_text(json.dumps({"pid": os.getpid(), "fileId": result.get("fileId")}))
        tmp.replace(folder / f"{marker_name}.json")
        time.sleep(hold)
    result["attempt"] = ctx.attempt
    return result
