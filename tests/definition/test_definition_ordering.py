"""The ordering rule of ordering.py, as validation and the DAG factory use it."""

from __future__ import annotations

import itertools

from airflow_provider_wfo.definition import ordering
from airflow_provider_wfo.definition.models import WorkflowStep


def steps(*spec: tuple[str, list[str] | None]) -> list[WorkflowStep]:
    return [WorkflowStep(id=sid, action="a", target="t", depends_on=deps) for sid, deps in spec]


def test_upstream_rule() -> None:
    up = ordering.upstream_ids(
        steps(("a", None), ("b", None), ("c", ["a"]), ("d", []), ("e", None), ("f", ["a", "c", "a"]))
    )
    assert up == {"a": (), "b": ("a",), "c": ("a",), "d": (), "e": ("d",), "f": ("a", "c")}


def test_cycle_is_reported_in_run_order() -> None:
    up = ordering.upstream_ids(steps(("a", ["c"]), ("b", ["a"]), ("c", ["b"])))
    cycle = ordering.find_cycle(up)
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) == 4
    # each step in the path runs before the next one, i.e. the next one waits for it
    for before, after in itertools.pairwise(cycle):
        assert before in up[after]
    assert ordering.find_cycle(ordering.upstream_ids(steps(("a", None), ("b", None)))) is None


def test_topological_order_keeps_definition_order_and_ancestors_are_transitive() -> None:
    up = ordering.upstream_ids(steps(("a", []), ("b", []), ("c", ["b"]), ("d", ["a", "c"]), ("e", None)))
    assert ordering.topological_order(up) == ["a", "b", "c", "d", "e"]
    assert ordering.ancestors(up, "e") == {"a", "b", "c", "d"}
    assert ordering.ancestors(up, "c") == {"b"}
    assert ordering.downstream_ids(up)["b"] == ["c"]


def test_ten_thousand_steps_do_not_recurse() -> None:
    chain = steps(*[(f"s{i}", None) for i in range(10_000)])
    up = ordering.upstream_ids(chain)
    assert ordering.find_cycle(up) is None
    assert len(ordering.topological_order(up)) == 10_000
    assert len(ordering.ancestors(up, "s9999")) == 9_999
