"""Issue 12, case 5: YAML aliases are bounded by what they expand to, not by how many there are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_wfo.definition.loading import DefinitionError, load_workflow_from_json
from airflow_provider_wfo.definition.rules import MAX_YAML_EXPANDED_CHARS

REPO = Path(__file__).resolve().parents[2]


def _aliased(value_chars: int, uses: int) -> str:
    refs = ", ".join(["*big"] * uses)
    return (
        "id: aliases\nname: Aliases\n"
        f"description: &big {'x' * value_chars}\n"
        "steps:\n- id: a\n  target: test\n  action: noop\n"
        f"  params:\n    v: [{refs}]\n"
    )


@pytest.mark.timeout(120)
def test_a_large_string_aliased_many_times_is_refused_at_validate_time(tmp_path: Path) -> None:
    # the case of the issue: a 1 MB string aliased 99,000 times, in a file of 1.6 MB
    path = tmp_path / "aliases.yaml"
    path.write_text(_aliased(1_000_000, 99_000))
    run = subprocess.run(
        [sys.executable, "-m", "airflow_provider_wfo.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=110,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr and "MemoryError" not in run.stderr
    assert f"{path}: line 9, column " in run.stdout
    assert f"expands to more than {MAX_YAML_EXPANDED_CHARS:,} characters" in run.stdout


def test_aliases_within_the_budget_still_load() -> None:
    defn = load_workflow_from_json(_aliased(1_000, 100))
    assert defn.steps[0].params["v"] == ["x" * 1_000] * 100


def test_a_nested_anchor_counts_its_whole_text() -> None:
    # an anchored list of nine 1 MB strings, aliased twice: 27 MB of values from a 9 MB file
    items = "\n".join(f"  - {chr(97 + i) * 1_000_000}" for i in range(9))
    text = (
        "id: nested\nname: Nested\ndescription: x\n"
        f"tags: &list\n{items}\n"
        "steps:\n- id: a\n  target: test\n  action: noop\n  params:\n    v: *list\n    w: *list\n"
    )
    with pytest.raises(DefinitionError) as caught:
        load_workflow_from_json(text)
    assert "characters of values" in str(caught.value)
