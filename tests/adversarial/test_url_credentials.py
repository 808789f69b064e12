"""Issue 12, case 1 (second half): credentials written into a URL (``http://user:pass@host``).

In a definition they are refused at validate time (the definition is stored in clear in git, in
the serialized DAG and in the UI). From run conf they reach the request, but not the outcome, the
events, the trace, the step's XComs or the task logs.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from airflow_provider_wfo.definition.validation import validate_workflow
from airflow_provider_wfo.redaction import redact_text, strip_url_credentials

URL_PASSWORD = "Url-Pa55-w0rd-91"


def _defn(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "url-creds",
        "name": "URL credentials",
        "steps": [{"id": "call", "action": "request", "target": "http", "params": {"url": url}}],
        **extra,
    }


@pytest.mark.parametrize(
    ("defn", "location"),
    [
        (_defn(f"http://bob:{URL_PASSWORD}@127.0.0.1/x"), "steps[0].params.url"),
        (
            _defn("https://a.example/$x", params={"x": {"default": "https://u:p4ssw@b.example/"}}),
            "params.x.default",
        ),
        (
            {
                **_defn("https://a.example/ok"),
                "steps": [
                    {
                        "id": "call",
                        "action": "request",
                        "target": "http",
                        "params": {"url": "https://a.example/ok"},
                        "rollback": {
                            "action": "request",
                            "target": "http",
                            "params": {"url": "https://u:secretpw@a.example/undo", "method": "DELETE"},
                        },
                    }
                ],
            },
            "steps[0].rollback.params.url",
        ),
    ],
)
def test_a_password_in_a_definition_url_is_refused(defn: dict[str, Any], location: str) -> None:
    result = validate_workflow(defn)
    assert not result.valid
    issues = {issue.location: issue.message for issue in result.errors}
    assert location in issues, issues
    assert "Airflow connection" in issues[location]
    assert "p4ssw" not in issues[location] and URL_PASSWORD not in issues[location]


def test_a_user_name_alone_or_an_at_sign_elsewhere_is_fine() -> None:
    for url in ("https://bob@a.example/x", "https://a.example/users/@me", "mailto:a@b.example"):
        assert validate_workflow(_defn(url)).valid, url


def test_url_credentials_are_cut_from_any_text() -> None:
    text = f"GET http://bob:{URL_PASSWORD}@127.0.0.1:8080/x?y=1 failed; see https://ok.example/a@b"
    assert (
        strip_url_credentials(text)
        == "GET http://bob:***@127.0.0.1:8080/x?y=1 failed; see https://ok.example/a@b"
    )
    assert URL_PASSWORD not in redact_text(text)


def _echo(request: Request) -> Response:
    header = request.headers.get("Authorization", "")
    return Response(f"nope: {header} from {request.url}", status=500)


@pytest.mark.slow
def test_a_password_in_a_url_from_conf_reaches_no_record(
    run_workflow: Any, httpserver: HTTPServer, airflow_home: Path
) -> None:
    from airflow_provider_wfo.events.bus import workflow_events
    from airflow_provider_wfo.events.trace import build_trace

    httpserver.expect_request("/x").respond_with_handler(_echo)
    url = httpserver.url_for("/x").replace("://", f"://bob:{URL_PASSWORD}@")
    events: list[Any] = []
    workflow_events.on("*", events.append)
    try:
        result = run_workflow(
            {
                "id": "url-creds-conf",
                "name": "URL credentials from conf",
                "steps": [
                    {
                        "id": "call",
                        "action": "request",
                        "target": "http",
                        "params": {"url": "$target", "expectStatus": [200, 500]},
                    }
                ],
            },
            {"target": url},
        )
    finally:
        workflow_events.off("*", events.append)
    assert len(httpserver.log) == 1
    sent = httpserver.log[0][0].headers["Authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == f"bob:{URL_PASSWORD}"  # it was used

    dag_id, run_id = run_workflow.last.dag_id, run_workflow.last.run_id
    produced = json.dumps(result.to_json_dict()) + json.dumps(build_trace(dag_id, run_id).to_json_dict())
    produced += "".join(json.dumps(e.to_json_dict()) for e in events)
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ?", (dag_id, run_id)
        ).fetchall()
    produced += "".join(str(value) for (value,) in rows)
    for log in (airflow_home / "logs").rglob("*"):
        if log.is_file() and dag_id in str(log):
            produced += log.read_text(errors="replace")
    assert events and rows and "bob:***@" in produced
    assert URL_PASSWORD not in produced
    assert sent.split()[1] not in produced
