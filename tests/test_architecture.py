"""The package's structure: no import cycle between its parts, and the layer order of DEVELOPERS.md.

``import-linter`` (configured in pyproject.toml) checks the declared layers; the cycle check below
covers every part of the package, including one that is not in the layer list yet.
"""

from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_provider_wfo"


def _part(module: str) -> str:
    """``airflow_provider_wfo.events.trace`` -> ``events``; the package's own ``__init__`` -> ``<root>``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def part_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(PACKAGE, include_external_packages=False)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _part(module), _part(imported)
            if a != b:
                edges.setdefault(a, set()).add(b)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``edges`` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_import_cycle_between_the_packages_parts() -> None:
    edges = part_graph()
    # The package root only re-exports lazily (its imports are for type checkers); leave it out.
    edges.pop("<root>", None)
    assert "saga" in edges and "operators" in edges
    assert find_cycle(edges) is None, f"import cycle: {' -> '.join(find_cycle(edges) or [])}"


def test_the_saga_core_imports_nothing_above_it() -> None:
    assert part_graph().get("saga", set()) <= {"results"}
    assert part_graph().get("results", set()) == set()


def test_layers_contract_is_kept() -> None:
    # 0 = every contract kept; the report (which import breaks which layer) is printed on failure.
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
