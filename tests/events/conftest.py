"""Fixtures of the events tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wfo_events_helpers import Recorder


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    from airflow_provider_wfo.events.bus import workflow_events
    from airflow_provider_wfo.events.sinks import sink_registry

    rec = Recorder()
    workflow_events.on("*", rec)
    try:
        yield rec
    finally:
        workflow_events.off("*", rec)
        sink_registry.reset()
