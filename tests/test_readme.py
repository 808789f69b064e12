"""README.md is generated from docs/*.md; this keeps the two from drifting apart."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_built_from_docs(tmp_path: Path) -> None:
    built = tmp_path / "README.md"
    subprocess.run([str(ROOT / "scripts" / "build-readme"), str(built)], check=True)
    assert (ROOT / "README.md").read_text() == built.read_text(), "run scripts/build-readme"


def test_readme_has_the_sections_users_need() -> None:
    text = (ROOT / "README.md").read_text()
    for heading in (
        "## Quick start",
        "## Definition language",
        "## Saga semantics",
        "## Connectors",
        "## Running on a cluster",
        "## Performance",
    ):
        assert heading in text, heading
