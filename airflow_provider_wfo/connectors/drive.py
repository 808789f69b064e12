"""drive: ``file_document`` (auto-categorised into a folder) and ``delete_file`` (its rollback).

Real backend: Google Drive v3 through the Google provider's ``GoogleDriveHook`` (connection type
``google_cloud_platform``). Files go under ``root_folder_id`` (a folder id), else the shared drive
``shared_drive_id``, else the account's My Drive -- which a service account does not have: it has
no storage quota, so a service account needs a shared drive. Idempotency: the upload carries the
digest of the step's key in ``appProperties.wfoIdempotencyKey``; an attempt first searches for it.

Undo = move to the trash (``files.update trashed=true``): on a shared drive that needs the Content
manager role, where deleting for good (``files.delete``) needs Manager. The connection extra
``rollback_mode: "delete"`` deletes instead.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from airflow_provider_wfo.connectors import _google
from airflow_provider_wfo.connectors._common import key_digest
from airflow_provider_wfo.connectors.documents import TYPE_FOLDERS, Document, read_document
from airflow_provider_wfo.connectors.local.workspace import safe_component
from airflow_provider_wfo.connectors.runtime import Backend
from airflow_provider_wfo.connectors.spec import (
    LOCAL_CONN_TYPE,
    ActionSpec,
    Connector,
    Params,
    Result,
    Text,
    param,
    required,
)

APP_PROPERTY = "wfoIdempotencyKey"
FOLDER_MIME = "application/vnd.google-apps.folder"
FILE_FIELDS = "id,name,webViewLink,mimeType,size,createdTime,parents"
GOOGLE_TYPES = ("google_cloud_platform", "gcpssh", "google_cloud")
#: Long enough for any real path, short enough that no error message quotes a novel.
MAX_PATH = 1024


class FileDocumentParams(Params):
    name: Text | None = param("name", "fileName", description="File name (default: filePath's last part).")
    type: Text | None = param(
        "type", "documentType", description="Document type, picks the folder: " + ", ".join(TYPE_FOLDERS)
    )
    folder: Text | None = param("folder", description="Folder name; overrides the type's folder.")
    content: Text | None = param("content", description="The file's text.")
    contentBase64: Text | None = param("contentBase64", description="The file's bytes, base64.")
    contentEncoding: Literal["base64", "text", "BASE64", "TEXT"] | None = param(
        "contentEncoding", description="base64: 'content' holds base64."
    )
    filePath: Text | None = param(
        "filePath",
        "path",
        "source",
        description="A file in the workspace inbox or the connection's allowed_paths (or a file:// URI).",
        max_length=MAX_PATH,
    )
    fileUri: Text | None = param(
        "fileUri", "uri", description="file:// URI of such a file.", max_length=MAX_PATH
    )
    mimeType: Text | None = param("mimeType", description="Default: from the name.")


class FileDocumentResult(Result):
    fileId: str
    id: str
    name: str | None = None
    folder: str
    folderId: str | None = None
    webViewLink: str
    mimeType: str | None = None
    size: int | None = None
    createdTime: str | None = None
    #: Local backend only: the file's path inside the workspace.
    path: str | None = None


class DeleteFileParams(Params):
    fileId: Text = required("fileId", "id", description="The fileId file_document returned.", max_length=200)


class DeleteFileResult(Result):
    fileId: str
    deleted: bool
    alreadyDeleted: bool
    #: Drive only: the file was moved to the trash (the default undo), not deleted for good.
    trashed: bool | None = None


def _q(value: str) -> str:
    """Quote a value for a Drive query string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class GoogleDrive(Backend):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from airflow_provider_wfo.connectors.hooks.google import WfoDriveHook

        endpoint = self.extra.get("api_endpoint")
        self.hook = WfoDriveHook(
            gcp_conn_id=self.resolved.conn_id, api_endpoint=str(endpoint) if endpoint else None
        )
        self.shared_drive = str(self.extra.get("shared_drive_id") or "") or None
        self.root = str(self.extra.get("root_folder_id") or self.shared_drive or "root")
        self._service: Any = None

    @property
    def service(self) -> Any:
        if self._service is None:
            self._service = _google.call(self.hook.get_conn, "drive: connect", self.scrub)
        return self._service

    def run(self, request: Any, what: str) -> Any:
        # num_retries: googleapiclient's own retry of 5xx and 429 (exponential backoff), from the
        # connection's num_retries (the provider's default, 5).
        return _google.call(
            lambda: request.execute(num_retries=self.hook.num_retries), f"drive: {what}", self.scrub
        )

    def list_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}
        if self.shared_drive:
            kwargs.update(corpora="drive", driveId=self.shared_drive)
        return kwargs

    def folder_id(self, name: str) -> str:
        q = (
            f"name = {_q(name)} and mimeType = '{FOLDER_MIME}' and {_q(self.root)} in parents "
            "and trashed = false"
        )
        found = self.run(
            self.service.files().list(q=q, fields="files(id,name)", pageSize=1, **self.list_kwargs()),
            "find folder",
        )
        files = found.get("files") or []
        if files:
            return str(files[0]["id"])
        body = {"name": name, "mimeType": FOLDER_MIME, "parents": [self.root]}
        created = self.run(
            self.service.files().create(body=body, fields="id", supportsAllDrives=True), "create folder"
        )
        return str(created["id"])

    def file_document(self, params: FileDocumentParams) -> FileDocumentResult:
        from googleapiclient.http import MediaIoBaseUpload

        doc: Document = read_document(params, self.resolved)
        digest = key_digest(self.ctx)
        q = f"appProperties has {{ key='{APP_PROPERTY}' and value='{digest}' }} and trashed = false"
        found = self.run(
            self.service.files().list(q=q, fields=f"files({FILE_FIELDS})", pageSize=1, **self.list_kwargs()),
            "idempotency search",
        )
        if found.get("files"):
            file = found["files"][0]
            self.log.info("drive: returning the file an earlier attempt uploaded (%s)", file["id"])
            return self._result(file, doc.folder, (file.get("parents") or [""])[0])
        folder_id = self.folder_id(doc.folder)
        body = {
            "name": doc.name,
            "parents": [folder_id],
            "mimeType": doc.mime_type,
            "appProperties": {APP_PROPERTY: digest},
        }
        media = MediaIoBaseUpload(io.BytesIO(doc.data), mimetype=doc.mime_type, resumable=False)
        file = self.run(
            self.service.files().create(
                body=body, media_body=media, fields=FILE_FIELDS, supportsAllDrives=True
            ),
            "upload",
        )
        return self._result(file, doc.folder, folder_id)

    @staticmethod
    def _result(file: dict[str, Any], folder: str, folder_id: str) -> FileDocumentResult:
        return FileDocumentResult(
            fileId=file["id"],
            id=file["id"],
            name=file.get("name"),
            folder=folder,
            folderId=folder_id,
            webViewLink=file.get("webViewLink") or f"https://drive.google.com/file/d/{file['id']}/view",
            mimeType=file.get("mimeType"),
            size=int(file["size"]) if file.get("size") is not None else None,
            createdTime=file.get("createdTime"),
        )

    def delete_file(self, params: DeleteFileParams) -> DeleteFileResult:
        from googleapiclient.errors import HttpError

        file_id = safe_component(params.fileId, "fileId")
        files = self.service.files()
        try:
            current = files.get(fileId=file_id, fields="id,trashed", supportsAllDrives=True).execute(
                num_retries=self.hook.num_retries
            )
        except HttpError as exc:
            if _google.http_status(exc) == 404:
                self.log.info("drive: file %s is already gone", file_id)
                return DeleteFileResult(fileId=file_id, deleted=False, alreadyDeleted=True)
            _google.translate(exc, "drive: read file", self.scrub)
        except Exception as exc:
            _google.translate(exc, "drive: read file", self.scrub)
        mode = str(self.extra.get("rollback_mode") or "trash").lower()
        if mode == "delete":
            try:
                files.delete(fileId=file_id, supportsAllDrives=True).execute(
                    num_retries=self.hook.num_retries
                )
            except HttpError as exc:
                if _google.http_status(exc) == 404:
                    return DeleteFileResult(fileId=file_id, deleted=False, alreadyDeleted=True)
                _google.translate(
                    exc, "drive: delete (rollback_mode delete needs the Manager role)", self.scrub
                )
            return DeleteFileResult(fileId=file_id, deleted=True, alreadyDeleted=False, trashed=False)
        if current.get("trashed"):
            self.log.info("drive: file %s is already in the trash", file_id)
            return DeleteFileResult(fileId=file_id, deleted=False, alreadyDeleted=True, trashed=True)
        self.run(
            files.update(fileId=file_id, body={"trashed": True}, fields="id,trashed", supportsAllDrives=True),
            "move to trash",
        )
        return DeleteFileResult(fileId=file_id, deleted=True, alreadyDeleted=False, trashed=True)


_GOOGLE = "airflow_provider_wfo.connectors.drive:GoogleDrive"

CONNECTOR = Connector(
    target="drive",
    service="Google Drive",
    summary="Files documents into folders by type; undo moves them to the trash.",
    actions=(
        ActionSpec(
            "file_document",
            FileDocumentParams,
            FileDocumentResult,
            "Upload a document into the folder its type (or name) picks.",
            rollback='delete_file {fileId: "$step.fileId"}',
        ),
        ActionSpec("delete_file", DeleteFileParams, DeleteFileResult, "Move a filed document to the trash."),
    ),
    backends={
        LOCAL_CONN_TYPE: "airflow_provider_wfo.connectors.local.drive:LocalDrive",
        **{t: _GOOGLE for t in GOOGLE_TYPES},
    },
    doctor="airflow_provider_wfo.connectors.doctor.google:check_drive",
    real_backend="`GoogleDriveHook` (Drive v3)",
)
