"""Local Drive: ``<workspace>/drive/<Folder>/<name>``; ids in ``.wfo/drive-files/<fileId>.json``."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext
from airflow_provider_wfo.connectors.documents import Document, read_document
from airflow_provider_wfo.connectors.drive import (
    DeleteFileParams,
    DeleteFileResult,
    FileDocumentParams,
    FileDocumentResult,
)
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component
from airflow_provider_wfo.connectors.runtime import LocalBackend

TARGET = "drive"


def _entry_path(ws: Workspace, file_id: str) -> Path:
    """Where the file with ``file_id`` lives: ``.wfo/drive-files/<fileId>.json``."""
    return ws.meta("drive-files", f"{safe_component(file_id, 'fileId')}.json")


def _free_name(folder: Path, name: str) -> str:
    if not (folder / name).exists():
        return name
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    n = 2
    while True:
        candidate = f"{stem} ({n}){dot}{ext}"
        if not (folder / candidate).exists():
            return candidate
        n += 1


def file_document(ws: Workspace, doc: Document, ctx: ActionContext) -> dict[str, Any]:
    with ws.lock(TARGET):
        previous = ws.recall(TARGET, ctx.idempotency_key)
        if previous and _entry_path(ws, str(previous.get("fileId"))).exists():
            ctx.log.info("drive: returning the file an earlier attempt filed (%s)", previous["fileId"])
            return previous
        folder = ws.path(TARGET, doc.folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = _free_name(folder, doc.name)
        path = ws.path(TARGET, doc.folder, name)
        ws.write_bytes(path, doc.data)
        file_id = "local-" + uuid.uuid4().hex
        result = {
            "fileId": file_id,
            "id": file_id,
            "name": name,
            "folder": doc.folder,
            "webViewLink": ws.uri(path),
            "mimeType": doc.mime_type,
            "size": len(doc.data),
            "createdTime": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "path": str(path.relative_to(ws.root)),
        }
        ws.write_json(_entry_path(ws, file_id), {"path": result["path"], "key": ctx.idempotency_key})
        ws.remember(TARGET, ctx.idempotency_key, result)
        return result


def delete_file(ws: Workspace, file_id: str, ctx: ActionContext) -> dict[str, Any]:
    safe_component(file_id, "fileId")
    with ws.lock(TARGET):
        entry_path = _entry_path(ws, file_id)
        entry = ws.read_json(entry_path, None)
        if entry is None:
            ctx.log.info("drive: file %s is already gone", file_id)
            return {"fileId": file_id, "deleted": False, "alreadyDeleted": True}
        path = ws.path(*Path(entry["path"]).parts)
        path.unlink(missing_ok=True)
        ws.remove_empty_dirs(path.parent, ws.root)
        ws.forget(TARGET, entry.get("key"))
        entry_path.unlink(missing_ok=True)
        ws.remove_empty_dirs(entry_path.parent, ws.meta())
        return {"fileId": file_id, "deleted": True, "alreadyDeleted": False}


class LocalDrive(LocalBackend):
    def file_document(self, params: FileDocumentParams) -> FileDocumentResult:
        doc = read_document(params, self.resolved)
        return FileDocumentResult.model_validate(file_document(self.ws, doc, self.ctx))

    def delete_file(self, params: DeleteFileParams) -> DeleteFileResult:
        return DeleteFileResult.model_validate(delete_file(self.ws, params.fileId, self.ctx))
