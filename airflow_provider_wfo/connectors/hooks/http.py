"""WfoHttpHook: Airflow's ``HttpHook`` whose session keeps connection credentials on their origin.

``requests`` drops only ``Authorization`` when a redirect leaves the host; a connection's extra
headers (``X-Api-Key: ...``) and cookies would follow a 302 to any other origin. This session
drops them too whenever requests itself would drop ``Authorization``.
"""

from __future__ import annotations

from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook

ALWAYS_SENSITIVE = ("Authorization", "Proxy-Authorization", "Cookie")


class OriginBoundSession(requests.Session):
    #: Header names (from the connection) that never leave the connection's origin.
    sensitive: tuple[str, ...] = ALWAYS_SENSITIVE

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        previous = response.request.url or ""
        if prepared_request.url and self.should_strip_auth(previous, prepared_request.url):  # type: ignore[no-untyped-call]
            for name in self.sensitive:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]


class WfoHttpHook(HttpHook):
    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> Any:
        session = super().get_conn(headers, extra_options)
        extra = self.get_connection(self.http_conn_id).extra_dejson or {}
        # HttpHook builds a plain Session; give the same object our redirect rule. Every header
        # the connection contributed (its extras) is a credential as far as we can tell.
        session.__class__ = OriginBoundSession
        assert isinstance(session, OriginBoundSession)
        session.sensitive = (*ALWAYS_SENSITIVE, *(str(k) for k in extra))
        return session
