"""drive: ``file_document`` (auto-categorised into a folder) and ``delete_file`` (its rollback).

Real backend: Google Drive v3 through the Google provider's ``GoogleDriveHook`` (connection type
``google_cloud_platform``; extra ``api_endpoint`` points it at a stand-in, ``root_folder_id`` picks
the folder that holds the category folders). Idempotency: the upload carries the digest of the
step's key in ``appProperties.wfoIdempotencyKey``; an attempt first searches for it.
"""

from __future__ import annotations

import io
from typing import Any

from airflow_provider_wfo.actions.registry import ActionContext, register_builtin
from airflow_provider_wfo.connectors import _google
from airflow_provider_wfo.connectors._common import key_digest, req_str
from airflow_provider_wfo.connectors.connections import ResolvedConnection, resolve, unsupported
from airflow_provider_wfo.connectors.documents import Document, read_document
from airflow_provider_wfo.connectors.local import drive as local_drive
from airflow_provider_wfo.connectors.local.workspace import Workspace, safe_component

APP_PROPERTY = "wfoIdempotencyKey"
FOLDER_MIME = "application/vnd.google-apps.folder"
FILE_FIELDS = "id,name,webViewLink,mimeType,size,createdTime,parents"
GOOGLE_TYPES = ("google_cloud_platform", "gcpssh", "google_cloud")


def _q(value: str) -> str:
    """Quote a value for a Drive query string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _service(resolved: ResolvedConnection) -> Any:
    from airflow_provider_wfo.connectors.hooks.google import WfoDriveHook

    endpoint = resolved.extra.get("api_endpoint")
    hook = WfoDriveHook(gcp_conn_id=resolved.conn_id, api_endpoint=str(endpoint) if endpoint else None)
    return _google.call(hook.get_conn, "drive: connect", resolved.scrub)


def _result(file: dict[str, Any], folder: str, folder_id: str) -> dict[str, Any]:
    return {
        "fileId": file["id"],
        "id": file["id"],
        "name": file.get("name"),
        "folder": folder,
        "folderId": folder_id,
        "webViewLink": file.get("webViewLink") or f"https://drive.google.com/file/d/{file['id']}/view",
        "mimeType": file.get("mimeType"),
        "size": int(file["size"]) if file.get("size") is not None else None,
        "createdTime": file.get("createdTime"),
    }


def _folder_id(service: Any, name: str, parent: str, resolved: ResolvedConnection) -> str:
    q = f"name = {_q(name)} and mimeType = '{FOLDER_MIME}' and {_q(parent)} in parents and trashed = false"
    found = _google.call(
        lambda: (
            service.files()
            .list(q=q, fields="files(id,name)", supportsAllDrives=True, includeItemsFromAllDrives=True)
            .execute()
        ),
        "drive: find folder",
        resolved.scrub,
    )
    files = found.get("files") or []
    if files:
        return str(files[0]["id"])
    created = _google.call(
        lambda: (
            service.files()
            .create(
                body={"name": name, "mimeType": FOLDER_MIME, "parents": [parent]},
                fields="id",
                supportsAllDrives=True,
            )
            .execute()
        ),
        "drive: create folder",
        resolved.scrub,
    )
    return str(created["id"])


def _drive_file_document(resolved: ResolvedConnection, doc: Document, ctx: ActionContext) -> dict[str, Any]:
    from googleapiclient.http import MediaIoBaseUpload

    service = _service(resolved)
    digest = key_digest(ctx)
    q = f"appProperties has {{ key='{APP_PROPERTY}' and value='{digest}' }} and trashed = false"
    found = _google.call(
        lambda: (
            service.files()
            .list(q=q, fields=f"files({FILE_FIELDS})", supportsAllDrives=True, includeItemsFromAllDrives=True)
            .execute()
        ),
        "drive: idempotency search",
        resolved.scrub,
    )
    root = str(resolved.extra.get("root_folder_id") or "root")
    if found.get("files"):
        file = found["files"][0]
        ctx.log.info("drive: returning the file an earlier attempt uploaded (%s)", file["id"])
        parents = file.get("parents") or [""]
        return _result(file, doc.folder, parents[0])
    folder_id = _folder_id(service, doc.folder, root, resolved)
    body = {
        "name": doc.name,
        "parents": [folder_id],
        "mimeType": doc.mime_type,
        "appProperties": {APP_PROPERTY: digest},
    }
    media = MediaIoBaseUpload(io.BytesIO(doc.data), mimetype=doc.mime_type, resumable=False)
    file = _google.call(
        lambda: (
            service.files()
            .create(body=body, media_body=media, fields=FILE_FIELDS, supportsAllDrives=True)
            .execute()
        ),
        "drive: upload",
        resolved.scrub,
    )
    return _result(file, doc.folder, folder_id)


def _drive_delete(resolved: ResolvedConnection, file_id: str, ctx: ActionContext) -> dict[str, Any]:
    from googleapiclient.errors import HttpError

    service = _service(resolved)
    try:
        service.files().delete(fileId=file_id, supportsAllDrives=True).execute()
    except HttpError as exc:
        if _google.http_status(exc) == 404:
            ctx.log.info("drive: file %s is already gone", file_id)
            return {"fileId": file_id, "deleted": False, "alreadyDeleted": True}
        _google.translate(exc, "drive: delete", resolved.scrub)
    except Exception as exc:
        _google.translate(exc, "drive: delete", resolved.scrub)
    return {"fileId": file_id, "deleted": True, "alreadyDeleted": False}


@register_builtin("drive", "file_document")
def file_document(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    doc = read_document(params, resolved)
    if resolved.is_local:
        assert resolved.workspace is not None
        return local_drive.file_document(Workspace(resolved.workspace), doc, ctx)
    if resolved.conn_type in GOOGLE_TYPES:
        return _drive_file_document(resolved, doc, ctx)
    raise unsupported(resolved, "drive", "google_cloud_platform")


@register_builtin("drive", "delete_file")
def delete_file(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    resolved = resolve(ctx)
    file_id = safe_component(req_str(params, "fileId", "id"), "fileId")
    if resolved.is_local:
        assert resolved.workspace is not None
        return local_drive.delete_file(Workspace(resolved.workspace), file_id, ctx)
    if resolved.conn_type in GOOGLE_TYPES:
        return _drive_delete(resolved, file_id, ctx)
    raise unsupported(resolved, "drive", "google_cloud_platform")
