"""Issue 12, case 8: terminal control sequences in user data never reach the terminal.

The repro: a conf value ``\\u001b]0;TITLE\\u0007\\u001b[2J`` (retitle the window, clear the screen)
was printed raw by the ``wfo run`` summary and by ``wfo trace``. Here it comes from run conf and
from a remote API's error body, and from file and step names for ``wfo validate`` and ``wfo graph``.
Output captured from a pipe has no styles, so any ESC in it would be the user's.
"""

from __future__ import annotations

import io
import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from airflow_provider_wfo.cli import main
from airflow_provider_wfo.cli.common import json_text, make_console, terminal_safe

REPRO = "\u001b]0;TITLE\u0007\u001b[2J"
HOSTILE = f"Acme{REPRO}Corp\x9b31m\u202eevil\x1b[1A\r"
BAD = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def _clean(text: str) -> None:
    found = [repr(c) for c in BAD if c in text]
    assert not found, f"{found} in {text!r}"


def test_the_repro_and_its_neighbours_are_removed() -> None:
    assert terminal_safe(REPRO) == ""
    assert terminal_safe(HOSTILE) == "AcmeCorpevil"
    assert terminal_safe("a\tb\nc") == "a\tb\nc"
    assert terminal_safe("a\tb\nc", newlines=False) == "abc"
    assert terminal_safe("Zoë 東京 ✔") == "Zoë 東京 ✔"
    assert terminal_safe("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\") == "click"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_nothing_a_terminal_acts_on_survives(text: str) -> None:
    safe = terminal_safe(text)
    for char in safe:
        assert char in "\n\t" or unicodedata.category(char) != "Cc", repr(char)
        assert char not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    assert terminal_safe(safe) == safe


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(st.text() | st.integers() | st.none(), lambda c: st.lists(c) | st.dictionaries(st.text(), c))
)
def test_json_output_escapes_but_keeps_everything(value: Any) -> None:
    text = json_text(value)
    _clean(text)
    assert json.loads(text) == value


def test_rich_styles_survive_on_a_terminal() -> None:
    out = io.StringIO()
    make_console(file=out, force_terminal=True).print(f"[red]ok[/red] {REPRO}x", markup=True)
    assert "\x1b[31m" in out.getvalue() and "]0;" not in out.getvalue() and "[2J" not in out.getvalue()


def _echo_hostile(request: Any) -> Any:
    from werkzeug import Response

    return Response(f"upstream {HOSTILE} broke", status=502)


@pytest.mark.slow
def test_run_summary_and_trace_print_no_control_sequence(
    tmp_path: Path, httpserver: HTTPServer, airflow_db: Path, run_workflow: Any, capfd: Any
) -> None:
    httpserver.expect_request("/items/x").respond_with_handler(_echo_hostile)
    httpserver.expect_request("/items/x", query_string=None).respond_with_handler(_echo_hostile)
    path = tmp_path / "escapes.json"
    path.write_text(
        json.dumps(
            {
                "id": "escapes",
                "name": "Escapes",
                "steps": [
                    {
                        "id": "call",
                        "name": "Call",
                        "action": "request",
                        "target": "http",
                        "retryCount": 0,
                        "params": {"url": httpserver.url_for("/items/x"), "query": {"who": "$who"}},
                    }
                ],
            }
        )
    )
    capfd.readouterr()
    assert main(["run", str(path), "--conf", json.dumps({"who": HOSTILE}), "--no-progress"]) == 1
    out, err = capfd.readouterr()
    assert "AcmeCorpevil" in out and "broke" in out  # the API's text is shown, cleaned
    _clean(out + err)

    with sqlite3.connect(airflow_db) as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = 'escapes' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    for extra in ([], ["--params"], ["--json"]):
        assert main(["trace", "escapes", run_id, *extra]) == 0
        out, err = capfd.readouterr()
        _clean(out + err)
        assert "broke" in out
        if extra == ["--json"]:
            trace = json.loads(out)
            assert trace["conf"]["who"] == HOSTILE  # kept whole, only escaped


def test_validate_graph_and_errors_print_no_control_sequence(tmp_path: Path, capfd: Any) -> None:
    folder = tmp_path / "defs"
    folder.mkdir()
    good = {
        "id": "fine",
        "name": f"Fine {REPRO}",
        "steps": [{"id": "a", "name": HOSTILE, "action": "do", "target": "test"}],
    }
    (folder / f"{REPRO}evil.json").write_text(json.dumps(good))
    (folder / "bad.json").write_text(json.dumps({**good, "id": "bad", "nmae": HOSTILE, HOSTILE: 1}))
    capfd.readouterr()
    assert main(["validate", str(folder)]) == 1
    out, err = capfd.readouterr()
    assert "evil.json: ok" in out and "bad.json" in out
    _clean(out + err)

    assert main(["graph", str(folder / f"{REPRO}evil.json")]) == 0
    out, err = capfd.readouterr()
    assert "AcmeCorpevil" in out
    _clean(out + err)

    assert main(["run", str(folder / "bad.json"), "--no-progress"]) == 1
    out, err = capfd.readouterr()
    _clean(out + err)
    assert main(["graph", str(tmp_path / f"missing{REPRO}.json")]) != 0
    out, err = capfd.readouterr()
    _clean(out + err)
