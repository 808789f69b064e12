"""What drive ``file_document`` files: the bytes (from text, base64 or an allowed local file), the
name and the folder it is categorised into. Shared by the local and the Drive backend."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from airflow_provider_wfo.connectors._common import NonRetryableActionError
from airflow_provider_wfo.connectors.connections import ResolvedConnection, default_workspace
from airflow_provider_wfo.connectors.local.workspace import is_within, safe_component, safe_file_name

if TYPE_CHECKING:
    from airflow_provider_wfo.connectors.drive import FileDocumentParams

#: Document ``type`` -> folder.
TYPE_FOLDERS: dict[str, str] = {
    "INVOICE": "Invoices",
    "REPORT": "Reports",
    "ORDER": "Orders",
    "CONTRACT": "Contracts",
    "RECEIPT": "Receipts",
    "MEETING": "Meetings",
    "PROPOSAL": "Proposals",
    "STATEMENT": "Statements",
}
DEFAULT_FOLDER = "Documents"
MAX_BYTES = 100 * 1024 * 1024


def categorise(doc_type: str | None, name: str) -> str:
    if doc_type:
        folder = TYPE_FOLDERS.get(doc_type.strip().upper())
        if folder:
            return folder
    lowered = name.lower()
    for key, folder in TYPE_FOLDERS.items():
        if key.lower() in lowered:
            return folder
    return DEFAULT_FOLDER


@dataclass(frozen=True)
class Document:
    name: str
    folder: str
    data: bytes
    mime_type: str
    doc_type: str | None


def allowed_roots(resolved: ResolvedConnection) -> list[Path]:
    roots = [((resolved.workspace or default_workspace()) / "inbox")]
    extra = resolved.extra.get("allowed_paths") or []
    if isinstance(extra, str):
        extra = [p for p in extra.split(os.pathsep) if p]
    roots.extend(Path(str(p)) for p in extra)
    return [r.resolve() for r in roots]


def _read_allowed(raw: str, resolved: ResolvedConnection) -> bytes:
    if "\x00" in raw:
        raise NonRetryableActionError("filePath contains a NUL byte")
    given = Path(raw)
    if ".." in given.parts:
        raise NonRetryableActionError("filePath may not contain '..'")
    roots = allowed_roots(resolved)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)  # follows symlinks: a link out of a root is refused
        except (OSError, RuntimeError):
            # Not found, a file used as a folder ("ok.txt/x"), a name too long, a symlink loop:
            # all mean "no such file", and none is worth another attempt.
            continue
        if any(is_within(real, root) for root in roots):
            if not real.is_file():
                raise NonRetryableActionError("filePath is not a regular file")
            if real.stat().st_size > MAX_BYTES:
                raise NonRetryableActionError("file is larger than 100 MB")
            try:
                return real.read_bytes()
            except PermissionError:
                raise NonRetryableActionError(f"file {given.name!r} is not readable by the worker") from None
        raise NonRetryableActionError(
            "filePath is outside the allowed folders (the workspace inbox or the connection's allowed_paths)"
        )
    raise NonRetryableActionError(f"file {given.name[:100]!r} not found in the allowed folders")


def read_document(params: FileDocumentParams, resolved: ResolvedConnection) -> Document:
    file_path = params.filePath
    file_uri = params.fileUri
    if file_path and file_path.startswith("file:"):
        file_path, file_uri = None, file_uri or file_path
    if file_uri:
        parsed = urlparse(file_uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise NonRetryableActionError("fileUri must be a file:// URI")
        file_path = unquote(parsed.path)
    content = params.content
    content_b64 = params.contentBase64
    if content is not None and (params.contentEncoding or "").lower() == "base64":
        content_b64, content = content, None
    sources = [s for s in (file_path, content, content_b64) if s is not None]
    if len(sources) > 1:
        raise NonRetryableActionError("give only one of filePath/fileUri, content, contentBase64")
    if file_path:
        data = _read_allowed(file_path, resolved)
    elif content_b64 is not None:
        try:
            data = base64.b64decode(content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise NonRetryableActionError("contentBase64 is not valid base64") from None
    elif content is not None:
        data = content.encode()
    else:
        data = b""
    default_name = Path(file_path).name if file_path else None
    name = params.name or default_name
    if not name:
        raise NonRetryableActionError("param 'name' is required (or a filePath to take it from)")
    name = safe_file_name(name)
    doc_type = params.type
    folder = safe_component(params.folder, "folder") if params.folder else categorise(doc_type, name)
    mime = params.mimeType or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if len(data) > MAX_BYTES:
        raise NonRetryableActionError("content is larger than 100 MB")
    return Document(name, folder, data, mime, doc_type)
