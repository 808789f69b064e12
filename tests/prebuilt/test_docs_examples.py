"""The seed's usage examples, written in Python in docs/prebuilt.md (the README's "Python API"),
run as shown: every ```python block is executed from the repo root on the embedded default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "prebuilt.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_has_the_seed_examples() -> None:
    text = "\n".join(BLOCKS)
    for name in (
        "handle_invoice(",
        "handle_bug_report(",
        "handle_meeting(",
        "handle_report(",
        "execute_workflow(",
    ):
        assert name in text, name


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(
    index: int, airflow_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_wfo.events.bus import workflow_events

    monkeypatch.chdir(REPO)
    monkeypatch.delenv("WFO_AIRFLOW_URL", raising=False)
    # The examples subscribe handlers; take exactly those off again afterwards.
    added: list[tuple[object, object]] = []
    subscribe = workflow_events.on

    def on(event_type: object, handler: object) -> object:
        added.append((event_type, handler))
        return subscribe(event_type, handler)  # type: ignore[arg-type]

    monkeypatch.setattr(workflow_events, "on", on)
    namespace: dict[str, object] = {"__name__": f"doc_example_{index}"}
    try:
        exec(compile(BLOCKS[index], f"{DOC.name}[python block {index}]", "exec"), namespace)
    finally:
        for event_type, handler in added:
            workflow_events.off(event_type, handler)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "❌" not in out and "failed" not in out.lower(), out
    for value in namespace.values():
        success = getattr(value, "success", None)
        if isinstance(success, bool):
            assert success, value
