"""README.md is the docs site's home page (docs/index.md); the reference lives in the site's pages.

These keep the two from drifting apart and keep the README what a newcomer needs: what it is,
the DAG picture, the two commands, a five-minute tour and links that resolve.
"""

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_built_from_docs(tmp_path: Path) -> None:
    built = tmp_path / "README.md"
    subprocess.run([str(ROOT / "scripts" / "build-readme"), str(built)], check=True)
    assert (ROOT / "README.md").read_text() == built.read_text(), "run scripts/build-readme"


def test_readme_has_what_a_newcomer_needs() -> None:
    text = (ROOT / "README.md").read_text()
    for heading in ("## The DAG it makes", "## Two commands", "## A five-minute tour", "## Performance"):
        assert heading in text, heading
    assert "scripts/demo" in text and "scripts/test" in text
    # Short: the reference is in the site, not here.
    assert len(text.splitlines()) < 150


def test_readme_links_resolve() -> None:
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert local, "the README links to the documentation pages"
    for link in local:
        assert (ROOT / link).is_file(), link


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_site() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = set(_nav_pages(config["nav"]))
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert on_disk == pages, f"not in the nav: {sorted(on_disk - pages)}; missing: {sorted(pages - on_disk)}"
    for page in ("saga.md", "definition-language.md", "connectors.md", "cluster.md", "performance.md"):
        assert page in pages
