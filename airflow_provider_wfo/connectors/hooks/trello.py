"""TrelloHook: Airflow's ``HttpHook`` pointed at the Trello REST API.

Connection type ``wfo_trello`` (declared in :mod:`airflow_provider_wfo.connectors.trello`): login =
API key, password = token, host optional (default ``https://api.trello.com``; set it for a
stand-in). The key and token travel in the ``Authorization: OAuth oauth_consumer_key="...",
oauth_token="..."`` header, one of the two ways Trello documents
(https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/), chosen over query
parameters so that no URL (which libraries log and put into exceptions) carries them.
"""

from __future__ import annotations

from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_wfo.connectors.trello import CONNECTION, DEFAULT_BASE_URL


class TrelloAuth(requests.auth.AuthBase):
    def __init__(self, key: str, token: str | None = None) -> None:
        self._value = f'OAuth oauth_consumer_key="{key}", oauth_token="{token or ""}"'

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "TrelloAuth(***)"


class TrelloHook(HttpHook):
    conn_name_attr = "trello_conn_id"
    default_conn_name = "wfo_trello"
    conn_type = CONNECTION.conn_type
    hook_name = CONNECTION.hook_name
    default_host = DEFAULT_BASE_URL

    def __init__(self, trello_conn_id: str = default_conn_name, method: str = "GET") -> None:
        super().__init__(method=method, http_conn_id=trello_conn_id, auth_type=TrelloAuth)

    def _configure_session_from_extra(
        self, session: Any, connection: Any, extra_options: dict[str, Any]
    ) -> Any:
        # HttpHook sends every connection extra it does not know as a request header; ours are
        # settings (default_list_id), and must never leave the worker.
        session = super()._configure_session_from_extra(session, connection, extra_options)
        for key in connection.extra_dejson or {}:
            session.headers.pop(key, None)
        return session

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return CONNECTION.ui_field_behaviour()
