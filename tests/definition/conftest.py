"""Shared paths for the definition-language tests (no Airflow needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed"
BROKEN = REPO / "examples" / "broken"


@pytest.fixture
def minimal() -> dict[str, object]:
    return {
        "id": "minimal",
        "name": "Minimal",
        "steps": [
            {"id": "step-1", "action": "create_task", "target": "tasks", "params": {"name": "Task 1"}}
        ],
    }
