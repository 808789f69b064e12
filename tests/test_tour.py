"""Step 4 of the README's five-minute tour, as written: validate, graph and run a seed example.

(Steps 1-3, `scripts/demo`, `--fail` and `--ui`, are tested in tests/prebuilt/test_demo.py and the
UI tests.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.cli import main

ROOT = Path(__file__).resolve().parents[1]
INDEX = (ROOT / "docs" / "index.md").read_text()
EXAMPLE = ROOT / "examples" / "seed" / "process-order.json"


def test_the_tour_names_commands_that_exist() -> None:
    step = re.search(r"^4\. (.*?)(?=^\S|\Z)", INDEX, flags=re.S | re.M)
    assert step is not None
    text = step.group(1)
    for command in ("wfo validate FILE", "wfo run FILE --conf", "wfo graph FILE"):
        assert command in text, command
    assert "examples/seed/" in text and any((ROOT / "examples" / "seed").glob("*.json"))


@pytest.mark.slow
def test_tour_validate_graph_run(airflow_db: Path, capfd: Any) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    capfd.readouterr()
    assert main(["graph", str(EXAMPLE)]) == 0
    graph = capfd.readouterr().out
    assert "Create Order File" in graph and "flowchart" in graph
    assert main(["run", str(EXAMPLE), "--conf", '{"orderId": "A-17"}', "--json", "--no-progress"]) == 0
    result = json.loads(capfd.readouterr().out)
    assert result["status"] == "COMPLETED"
    assert result["steps"][0]["result"]["data"]["name"] == "Order-A-17.pdf"
