"""The workflow view (the plugin's /wfo pages) shows names, conf, params and errors as text, never as
markup: a hostile value from a definition, a trigger form or an API's answer cannot script the page
of whoever reads the run."""

from __future__ import annotations

from typing import Any

import pytest

HTML = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.mark.slow
def test_a_run_with_markup_everywhere_renders_it_as_text(run_workflow: Any) -> None:
    from airflow_provider_wfo.events.trace import build_trace
    from airflow_provider_wfo.ui.render import run_page

    result = run_workflow(
        {
            "id": "view-escapes",
            "name": f"View {HTML}",
            "steps": [
                {
                    "id": "a",
                    "name": f"A {HTML}",
                    "action": "do",
                    "target": "test",
                    "params": {"v": "$v"},
                    "rollback": {"action": "undo", "target": "test", "retryDelay": 0},
                },
                {
                    "id": "b",
                    "name": f"B {HTML}",
                    "action": "do",
                    "target": "test",
                    "params": {"fail": "fatal"},
                },
            ],
        },
        {"v": HTML},
    )
    assert result.status.value == "ROLLED_BACK"
    page = run_page(build_trace(run_workflow.last.dag_id, run_workflow.last.run_id))
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # shown, as text
