"""Google hooks: the Google provider's Drive and Sheets hooks with the scopes those APIs accept,
and an endpoint override (connection extra ``api_endpoint``) for stand-ins.

The provider's default scope is ``cloud-platform``, which no Drive v3 or Sheets v4 method accepts:
a key-file connection without a ``scope`` extra would be refused with 403 on every call. When the
connection names no scope, these hooks ask for the API's own scope instead; a ``scope`` extra
(comma-separated) still wins.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.google.suite.hooks.drive import GoogleDriveHook
from airflow.providers.google.suite.hooks.sheets import GSheetsHook

DRIVE_SCOPES = ("https://www.googleapis.com/auth/drive",)
SHEETS_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)


class _RewriteToHttp:
    """Wraps an httplib2-like object: googleapiclient builds media upload URLs with the discovery
    document's ``https`` scheme even when ``api_endpoint`` is plain http; send those over http."""

    def __init__(self, inner: Any, netloc: str) -> None:
        self._inner = inner
        self._prefix = f"https://{netloc}/"

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        if uri.startswith(self._prefix):
            uri = "http://" + uri[len("https://") :]
        return self._inner.request(uri, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _scopes(hook: Any, default: tuple[str, ...]) -> list[str]:
    given = hook._get_field("scope", None)
    if given:
        return [s.strip() for s in str(given).split(",") if s.strip()]
    return list(default)


class WfoDriveHook(GoogleDriveHook):
    def __init__(self, gcp_conn_id: str, api_endpoint: str | None = None) -> None:
        super().__init__(gcp_conn_id=gcp_conn_id)
        self.api_endpoint = api_endpoint

    @property
    def scopes(self) -> list[str]:  # type: ignore[override]
        return _scopes(self, DRIVE_SCOPES)

    def get_client_options(self, api_endpoint_override: str | None = None) -> Any:  # type: ignore[override]
        return super().get_client_options(api_endpoint_override=api_endpoint_override or self.api_endpoint)

    def _authorize(self) -> Any:
        http = super()._authorize()
        if self.api_endpoint and self.api_endpoint.startswith("http://"):
            from urllib.parse import urlparse

            return _RewriteToHttp(http, urlparse(self.api_endpoint).netloc)
        return http


class WfoSheetsHook(GSheetsHook):
    def __init__(self, gcp_conn_id: str, api_endpoint: str | None = None) -> None:
        super().__init__(gcp_conn_id=gcp_conn_id, api_endpoint=api_endpoint)

    @property
    def scopes(self) -> list[str]:  # type: ignore[override]
        return _scopes(self, SHEETS_SCOPES)
