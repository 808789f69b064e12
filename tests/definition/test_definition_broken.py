"""The broken corpus: one definition per validation rule, each refused at the right location.

``examples/broken/cases.tsv`` lists ``file <TAB> expected location <TAB> part of the message``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_wfo.definition.errors import DefinitionError
from airflow_provider_wfo.definition.loading import load_definition_file

BROKEN = Path(__file__).resolve().parents[2] / "examples" / "broken"

CASES = [line.split("\t") for line in (BROKEN / "cases.tsv").read_text().splitlines() if line.strip()]


def test_every_broken_file_has_an_expectation() -> None:
    files = {p.name for p in BROKEN.iterdir() if p.suffix in (".json", ".yaml", ".yml")}
    assert files == {name for name, _, _ in CASES}


@pytest.mark.parametrize(("name", "location", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_broken_definition_is_refused_at_the_right_location(name: str, location: str, fragment: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition_file(BROKEN / name)
    found = [(i.location, i.message) for i in info.value.issues]
    assert any(loc == location and fragment in msg for loc, msg in found), found
    assert info.value.source == str(BROKEN / name)
    text = str(info.value)
    assert "Traceback" not in text and "pydantic" not in text.lower() and "Input should" not in text
