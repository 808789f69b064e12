"""``when`` and ``forEach`` through real Airflow: each test is one ``dag.test`` run of a generated DAG.

Actions are the recording ``test`` actions (tests/wfo_test_actions.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow


def step(step_id: str, *, rollback: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": step_id, "action": "do", "target": "test", "retryDelay": 0, **extra}
    if rollback is not None:
        spec["rollback"] = {"action": "undo", "target": "test", "retryCount": 0, "retryDelay": 0,
                            "params": rollback}
    return spec


def statuses(result: Any) -> dict[str, StepStatus]:
    return {s.step_id: s.status for s in result.steps}


def test_condition_false_skips_the_step_and_the_sequence_goes_on(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "when-sequence",
        "name": "Conditional sequence",
        "steps": [
            step("check", params={"priority": "$priority"}),
            step("high", when={"==": ["$check.echo.priority", "high"]}),
            step("normal", when={"!=": ["$check.echo.priority", "high"]}),
            step("after", when={"!!": "$high"}, params={"high": "$high", "deep": "$high.echo.x"}),
            step("last", params={"normal": "${normal.value}"}),
        ],
    }
    result = run_workflow(defn, {"priority": "low"})

    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert statuses(result) == {
        "check": StepStatus.COMPLETED, "high": StepStatus.SKIPPED, "normal": StepStatus.COMPLETED,
        "after": StepStatus.SKIPPED, "last": StepStatus.COMPLETED,
    }
    assert result.step("high").reason == "condition false"
    assert result.step("after").reason == "condition false"
    assert result.step("check").reason is None
    assert [c["step"] for c in wfo_calls.read()] == ["check", "normal", "last"]
    assert run_workflow.last.task_states["high"] == "skipped"
    assert result.step("last").result.data["echo"]["normal"] == "normal-do"  # type: ignore[union-attr]


def test_reference_to_a_skipped_step_gives_null(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "when-null",
        "name": "Null from a skipped step",
        "steps": [
            step("high", when={"==": [1, 2]}),
            step("after", params={"high": "$high", "deep": "$high.echo.x", "text": "was ${high.value}"}),
        ],
    }
    result = run_workflow(defn)
    assert result.status == WorkflowStatus.COMPLETED, result.error
    echo = result.step("after").result.data["echo"]  # type: ignore[union-attr]
    assert echo == {"high": None, "deep": None, "text": "was null"}


def test_a_false_condition_before_a_failure_is_not_compensated(run_workflow: Any, wfo_calls: Any) -> None:
    defn = {
        "id": "when-rollback",
        "name": "Skipped then failing",
        "steps": [
            step("a", rollback={"of": "$a.id"}),
            step("b", when={">": ["$amount", 10000]}, rollback={"of": "$b.id"}),
            step("c", rollback={"of": "$c.id"}),
            step("d", rollback={"of": "$d.id"}, params={"fail": "fatal"}),
        ],
    }
    result = run_workflow(defn, {"amount": 5})
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert statuses(result) == {
        "a": StepStatus.ROLLED_BACK, "b": StepStatus.SKIPPED, "c": StepStatus.ROLLED_BACK,
        "d": StepStatus.FAILED,
    }
    # b's compensation is skipped at once, yet a is still undone after c (reverse order past b)
    assert [c["step"] for c in wfo_calls.read() if c["rollback"]] == ["c", "a"]


def test_a_condition_that_cannot_be_evaluated_fails_the_step_with_its_place(run_workflow: Any) -> None:
    defn = {"id": "when-bad", "name": "Bad operands",
            "steps": [step("a", when={">": ["$amount", 1]}, optional=True), step("b")]}
    result = run_workflow(defn, {"amount": "lots"})
    assert result.step("a").status == StepStatus.FAILED_OPTIONAL
    assert "when.>" in (result.step("a").error or "") and "two numbers or two strings" in (
        result.step("a").error or ""
    )


def booking(**extra: Any) -> dict[str, Any]:
    """A quote, then one booking per traveller, then a confirmation reading every booking.

    ``retryCount: 1`` makes the order of items deterministic under dag.test (which runs the task
    instances it finds ready in no given order): a failing item is first only up for retry, so its
    siblings run, and it fails for good on its second attempt, after them."""
    extra.setdefault("retryCount", 1)
    return {
        "id": "group-booking-test",
        "name": "Group booking",
        "steps": [
            step("quote", rollback={"of": "$quote.id"}),
            step(
                "book",
                forEach="$travellers",
                params={"who": "$item.name", "n": "$index", "fail": "$item.fail", "quote": "$quote.id"},
                rollback={"booking": "$book.echo.who", "item": "$item.name", "index": "$index"},
                **extra,
            ),
            step("confirm", params={"seats": "$book", "count": "$book.1.echo.who"}),
        ],
    }


TRAVELLERS = [{"name": "ann", "fail": ""}, {"name": "bob", "fail": ""}, {"name": "cy", "fail": "always"}]


def test_for_each_runs_once_per_item_and_downstream_sees_the_list(run_workflow: Any, wfo_calls: Any) -> None:
    travellers = [{"name": "ann", "fail": ""}, {"name": "bob", "fail": ""}]
    result = run_workflow(booking(maxConcurrency=2), {"travellers": travellers})
    assert result.status == WorkflowStatus.COMPLETED, result.error
    book = result.step("book")
    assert book.status == StepStatus.COMPLETED
    assert [i.status for i in book.items or []] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    assert [r["echo"]["who"] for r in book.result.data["items"]] == ["ann", "bob"]  # type: ignore[union-attr]
    confirm = result.step("confirm").result.data["echo"]  # type: ignore[union-attr]
    assert [s["echo"]["who"] for s in confirm["seats"]] == ["ann", "bob"] and confirm["count"] == "bob"
    calls = [c for c in wfo_calls.read() if c["step"] == "book"]
    assert sorted((c["params"]["who"], c["params"]["n"]) for c in calls) == [("ann", 0), ("bob", 1)]
    assert sorted(c["key"].rsplit(":", 1)[1] for c in calls) == ["0", "1"]
    assert run_workflow.last.task_states["book_0"] == "success"


def test_an_item_failing_compensates_every_completed_item_with_its_own_item(
    run_workflow: Any, wfo_calls: Any
) -> None:
    result = run_workflow(booking(), {"travellers": TRAVELLERS})
    assert result.status == WorkflowStatus.ROLLED_BACK, result.error
    book = result.step("book")
    assert book.status == StepStatus.FAILED and result.failed_step == "book"
    assert "item 2" in (result.error or "") and "planned failure" in (result.error or "")
    assert book.rollback is not None and book.rollback.status == StepStatus.ROLLED_BACK
    items = {i.index: i for i in book.items or []}
    assert items[0].status == items[1].status == StepStatus.ROLLED_BACK
    assert items[2].status == StepStatus.FAILED and items[2].rollback is None
    assert result.step("quote").status == StepStatus.ROLLED_BACK
    assert result.step("confirm").status == StepStatus.SKIPPED
    undone = [c for c in wfo_calls.read() if c["rollback"]]
    booked = sorted((c["params"]["booking"], c["params"]["item"], c["params"]["index"]) for c in undone[:2])
    assert booked == [("ann", "ann", 0), ("bob", "bob", 1)]
    assert undone[-1]["step"] == "quote"  # the earlier step is undone after every item
    assert sorted(c["key"] for c in undone[:2]) == [
        f"group-booking-test:{result.run_id}:book:{i}:rollback" for i in (0, 1)
    ]
    assert run_workflow.last.task_states["compensate.book_2"] == "skipped"


def test_an_empty_list_completes_with_no_items(run_workflow: Any, wfo_calls: Any) -> None:
    defn = booking()
    defn["steps"][2]["params"] = {"seats": "$book"}
    result = run_workflow(defn, {"travellers": []})
    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert result.step("book").status == StepStatus.COMPLETED and result.step("book").items == []
    assert result.step("confirm").result.data["echo"]["seats"] == []  # type: ignore[union-attr]


def test_a_list_over_the_limit_fails_the_step_with_a_clear_message(
    run_workflow: Any, wfo_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "3")
    result = run_workflow(booking(), {"travellers": [*TRAVELLERS, {"name": "dee", "fail": ""}]})
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert result.step("book").status == StepStatus.FAILED
    assert "the list has 4 items; the limit is 3" in (result.step("book").error or "")
    assert "max_map_length" in (result.step("book").error or "")
    assert [c["step"] for c in wfo_calls.read() if c["rollback"]] == ["quote"]


def test_not_a_list_fails_the_step(run_workflow: Any, wfo_calls: Any) -> None:
    result = run_workflow(booking(), {"travellers": {"name": "ann"}})
    assert result.step("book").status == StepStatus.FAILED
    assert "gave an object; forEach needs a list" in (result.step("book").error or "")


def test_an_optional_for_each_step_fails_optional_and_nothing_is_undone(
    run_workflow: Any, wfo_calls: Any
) -> None:
    result = run_workflow(booking(optional=True), {"travellers": TRAVELLERS})
    assert result.status == WorkflowStatus.COMPLETED, result.error
    book = result.step("book")
    assert book.status == StepStatus.FAILED_OPTIONAL
    assert [i.status for i in book.items or []][2] == StepStatus.FAILED_OPTIONAL
    assert result.step("confirm").status == StepStatus.SKIPPED
    assert [c for c in wfo_calls.read() if c["rollback"]] == []


def test_a_false_condition_on_a_for_each_step_skips_it_as_a_whole(run_workflow: Any, wfo_calls: Any) -> None:
    defn = booking(when={"==": ["$quote.value", "nope"]})
    defn["steps"][2]["params"] = {"seats": "$book"}
    result = run_workflow(defn, {"travellers": TRAVELLERS})
    assert result.status == WorkflowStatus.COMPLETED, result.error
    assert result.step("book").status == StepStatus.SKIPPED
    assert result.step("book").reason == "condition false"
    assert result.step("confirm").result.data["echo"]["seats"] is None  # type: ignore[union-attr]
    assert [c["step"] for c in wfo_calls.read()] == ["quote", "confirm"]
