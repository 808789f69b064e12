"""What drive ``file_document`` files: the bytes (from text, base64 or an allowed local file), the
name and the folder it is categorised into. Shared by the local and the Drive backend."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from airflow_provider_wfo.connectors._common import NonRetryableActionError, opt_str, req_str
from airflow_provider_wfo.connectors.connections import ResolvedConnection, default_workspace
from airflow_provider_wfo.connectors.local.workspace import is_within, safe_component, safe_file_name

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
        except (FileNotFoundError, RuntimeError):
            continue
        if any(is_within(real, root) for root in roots):
            if not real.is_file():
                raise NonRetryableActionError("filePath is not a regular file")
            if real.stat().st_size > MAX_BYTES:
                raise NonRetryableActionError("file is larger than 100 MB")
            return real.read_bytes()
        raise NonRetryableActionError(
            "filePath is outside the allowed folders (the workspace inbox or the connection's allowed_paths)"
        )
    raise NonRetryableActionError(f"file {given.name!r} not found in the allowed folders")


def read_document(params: dict[str, Any], resolved: ResolvedConnection) -> Document:
    file_path = opt_str(params, "filePath", "path", "source")
    file_uri = opt_str(params, "fileUri", "uri")
    if file_path and file_path.startswith("file:"):
        file_path, file_uri = None, file_uri or file_path
    if file_uri:
        parsed = urlparse(file_uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise NonRetryableActionError("fileUri must be a file:// URI")
        file_path = unquote(parsed.path)
    content = params.get("content")
    content_b64 = params.get("contentBase64")
    if isinstance(content, str) and str(params.get("contentEncoding", "")).lower() == "base64":
        content_b64, content = content, None
    sources = [s for s in (file_path, content, content_b64) if s is not None]
    if len(sources) > 1:
        raise NonRetryableActionError("give only one of filePath/fileUri, content, contentBase64")
    if file_path:
        data = _read_allowed(file_path, resolved)
    elif content_b64 is not None:
        try:
            data = base64.b64decode(str(content_b64), validate=True)
        except (binascii.Error, ValueError):
            raise NonRetryableActionError("contentBase64 is not valid base64") from None
    elif content is not None:
        data = (content if isinstance(content, str) else str(content)).encode()
    else:
        data = b""
    default_name = Path(file_path).name if file_path else None
    name = safe_file_name(req_str({"name": opt_str(params, "name", "fileName") or default_name}, "name"))
    doc_type = opt_str(params, "type", "documentType")
    folder_param = opt_str(params, "folder")
    folder = safe_component(folder_param, "folder") if folder_param else categorise(doc_type, name)
    mime = opt_str(params, "mimeType") or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if len(data) > MAX_BYTES:
        raise NonRetryableActionError("content is larger than 100 MB")
    return Document(name, folder, data, mime, doc_type)
