"""Google Drive backend (GoogleDriveHook) against a stand-in checking requests per the Drive API v3.

Docs: https://developers.google.com/drive/api/reference/rest/v3/files/list (``q`` with
``appProperties has { key=... and value=... }``, https://developers.google.com/drive/api/guides/search-files),
https://developers.google.com/drive/api/reference/rest/v3/files/create and
https://developers.google.com/drive/api/guides/manage-uploads#multipart (multipart upload: JSON
metadata part + media part, ``uploadType=multipart``), https://developers.google.com/drive/api/guides/folder,
https://developers.google.com/drive/api/reference/rest/v3/files/delete.
"""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.actions.registry import ActionError, NonRetryableActionError

from .conftest import Call, set_conn
from .contracts.google_discovery import Recorder

FOLDER = "application/vnd.google-apps.folder"


class FakeDrive:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.content: dict[str, bytes] = {}

    def _new(self, meta: dict[str, Any]) -> dict[str, Any]:
        file_id = f"f{len(self.files) + 1}"
        file = {
            "id": file_id,
            "name": meta["name"],
            "mimeType": meta.get("mimeType", "application/octet-stream"),
            "parents": meta.get("parents", ["root"]),
            "appProperties": meta.get("appProperties", {}),
            "webViewLink": f"https://drive.google.com/file/d/{file_id}/view",
            "createdTime": "2025-01-15T10:00:00Z",
            "trashed": False,
        }
        self.files[file_id] = file
        return file

    def __call__(self, request: Request) -> Response:
        path, method, q = request.path, request.method, request.args
        if method == "GET" and path == "/drive/v3/files":
            assert q["supportsAllDrives"] == "true"
            query = q["q"]
            if m := re.fullmatch(
                r"appProperties has \{ key='(\w+)' and value='(\w+)' \} and trashed = false", query
            ):
                hits = [
                    f
                    for f in self.files.values()
                    if f["appProperties"].get(m.group(1)) == m.group(2) and not f["trashed"]
                ]
            elif m := re.fullmatch(
                rf"name = '(\w+)' and mimeType = '{FOLDER}' and 'root' in parents and "
                r"trashed = false",
                query,
            ):
                hits = [f for f in self.files.values() if f["name"] == m.group(1) and f["mimeType"] == FOLDER]
            else:
                return self.json({"error": {"code": 400, "message": f"bad q {query}"}}, 400)
            return self.json({"files": hits})
        if method == "POST" and path == "/drive/v3/files":
            meta = request.json
            assert meta["mimeType"] == FOLDER and meta["parents"] == ["root"]
            return self.json(self._new(meta))
        if method == "POST" and path == "/upload/drive/v3/files":
            assert q["uploadType"] == "multipart"
            raw = (
                b"Content-Type: "
                + request.headers["Content-Type"].encode()
                + b"\r\n\r\n"
                + request.get_data()
            )
            parts = list(email.message_from_bytes(raw).walk())[1:]
            meta = json.loads(parts[0].get_payload(decode=True))
            file = self._new(meta)
            self.content[file["id"]] = parts[1].get_payload(decode=True)
            return self.json(file)
        if method == "GET" and (m := re.fullmatch(r"/drive/v3/files/(\w+)", path)):
            found = self.files.get(m.group(1))
            if found is None:
                return self.json({"error": {"code": 404, "message": "File not found"}}, 404)
            return self.json({"id": found["id"], "trashed": found["trashed"]})
        if method == "PATCH" and (m := re.fullmatch(r"/drive/v3/files/(\w+)", path)):
            found = self.files.get(m.group(1))
            if found is None:
                return self.json({"error": {"code": 404, "message": "File not found"}}, 404)
            found["trashed"] = bool(request.json["trashed"])
            return self.json({"id": found["id"], "trashed": found["trashed"]})
        if method == "DELETE" and (m := re.fullmatch(r"/drive/v3/files/(\w+)", path)):
            if self.files.pop(m.group(1), None) is None:
                return self.json({"error": {"code": 404, "message": "File not found"}}, 404)
            return Response(status=204)
        return self.json({"error": {"code": 400, "message": f"unexpected {method} {path}"}}, 400)

    @staticmethod
    def json(value: Any, status: int = 200) -> Response:
        return Response(json.dumps(value), status=status, content_type="application/json")


@pytest.fixture
def contract() -> Iterator[Recorder]:
    """Every request the Drive backend sends, checked against Google's drive.v3 discovery document."""
    recorder = Recorder("drive.v3")
    yield recorder
    recorder.assert_clean()


@pytest.fixture
def drive(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, contract: Recorder) -> FakeDrive:
    fake = FakeDrive()

    def handler(request: Request) -> Response:
        contract(request)
        return fake(request)

    httpserver.expect_request(re.compile("/(upload/)?drive/v3/.*")).respond_with_handler(handler)
    set_conn(
        monkeypatch,
        "wfo_drive",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "num_retries": 0, "api_endpoint": httpserver.url_for("/drive/v3/")},
    )
    return fake


def test_upload_into_category_folder_idempotent_then_delete(drive: FakeDrive, call: Call) -> None:
    params = {"name": "Invoice-Acme-2025-001.pdf", "type": "INVOICE", "content": "%PDF invoice"}
    res = call("drive", "file_document", params)
    folder = next(f for f in drive.files.values() if f["mimeType"] == FOLDER)
    assert folder["name"] == "Invoices"
    uploaded = drive.files[res["fileId"]]
    assert uploaded["parents"] == [folder["id"]] and uploaded["mimeType"] == "application/pdf"
    assert len(uploaded["appProperties"]["wfoIdempotencyKey"]) == 32
    assert drive.content[res["fileId"]] == b"%PDF invoice"
    assert (
        res["folder"] == "Invoices" and res["webViewLink"].endswith("/view") and res["name"] == params["name"]
    )

    again = call("drive", "file_document", params, attempt=2)
    assert again["fileId"] == res["fileId"] and len(drive.files) == 2
    second = call("drive", "file_document", {**params, "name": "Invoice-2.pdf"}, key="dag:run2:s")
    assert (
        drive.files[second["fileId"]]["parents"] == [folder["id"]] and len(drive.files) == 3
    )  # folder reused

    gone = call("drive", "delete_file", {"fileId": res["fileId"]}, rollback=True)
    # The undo moves the file to the trash (Content manager may; deleting for good needs Manager).
    assert gone["deleted"] is True and gone["trashed"] is True and drive.files[res["fileId"]]["trashed"]
    assert call("drive", "delete_file", {"fileId": res["fileId"]})["alreadyDeleted"] is True
    # A new attempt of the forward step does not find the trashed file: it uploads anew.
    assert call("drive", "file_document", params, attempt=3)["fileId"] != res["fileId"]


def test_errors(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, call: Call) -> None:
    set_conn(
        monkeypatch,
        "wfo_drive",
        conn_type="google_cloud_platform",
        extra={"is_anonymous": True, "num_retries": 0, "api_endpoint": httpserver.url_for("/drive/v3/")},
    )
    httpserver.expect_request("/drive/v3/files").respond_with_json({"error": {"code": 403}}, status=403)
    with pytest.raises(NonRetryableActionError, match="403"):
        call("drive", "file_document", {"name": "a.pdf"})
    httpserver.clear()
    httpserver.expect_request("/drive/v3/files").respond_with_json({"error": {"code": 500}}, status=500)
    with pytest.raises(ActionError) as info:
        call("drive", "file_document", {"name": "a.pdf"})
    assert not isinstance(info.value, NonRetryableActionError)
