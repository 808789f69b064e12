"""``approval.request`` through real Airflow: the HITL operator parks the task in ``awaiting_input``
under ``dag.test``; ``wfo run``'s answers (``local/answers.py``) respond as the REST endpoint does,
and Airflow's own timeout sweep applies ``onTimeout``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.local.answers import Answer, parse_answers, respondent
from airflow_provider_wfo.results import StepStatus, WorkflowStatus

pytestmark = pytest.mark.slow


def _do(step_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "target": "test",
        "action": "do",
        "retryDelay": 0,
        "rollback": {
            "target": "test",
            "action": "undo",
            "retryCount": 0,
            "retryDelay": 0,
            "params": {"of": f"${{{step_id}.id}}"},
        },
        **extra,
    }


def _approval_defn(dag_id: str, **params: Any) -> dict[str, Any]:
    return {
        "id": dag_id,
        "name": dag_id,
        "steps": [
            _do("book", params={"id": "B-1", "amount": "$amount"}),
            {
                "id": "approve",
                "target": "approval",
                "action": "request",
                "params": {"subject": "Pay ${amount} for ${book.id}?", "body": "Booked: $book.id", **params},
            },
            _do("pay", params={"decision": "$approve.approved", "by": "$approve.by"}),
        ],
    }


def _run(defn: dict[str, Any], conf: dict[str, Any], answers: dict[str, Answer]) -> Any:
    from airflow_provider_wfo.local.runner import run_workflow

    return run_workflow(defn, conf, answers=answers)


def test_approved_continues_with_who_and_when(dags_folder: Path, wfo_calls: Any) -> None:
    outcome = _run(
        _approval_defn("approval_yes"), {"amount": 12000}, {"approve": Answer(True, "within budget")}
    )
    result = outcome.result
    assert result.status == WorkflowStatus.COMPLETED, result.error
    answer = result.steps[1].result.data
    assert answer["approved"] is True
    assert answer["by"] == respondent()["name"]
    assert answer["comment"] == "within budget"
    assert answer["at"]
    pay = [c for c in wfo_calls.read() if c["step"] == "pay"]
    assert pay[0]["params"]["decision"] is True


def test_rejected_rolls_back_and_says_who_and_why(dags_folder: Path, wfo_calls: Any) -> None:
    outcome = _run(_approval_defn("approval_no"), {"amount": 12000}, {"approve": Answer(False, "too much")})
    result = outcome.result
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert result.failed_step == "approve"
    step = result.steps[1]
    assert step.status == StepStatus.FAILED
    assert f"rejected by {respondent()['name']}: too much" in (step.error or "")
    assert step.attempts == 1
    assert [(c["action"], c["step"]) for c in wfo_calls.read()] == [("do", "book"), ("undo", "book")]


def test_timeout_into_reject_rolls_back(dags_folder: Path, wfo_calls: Any) -> None:
    outcome = _run(_approval_defn("approval_late", timeout=1000), {"amount": 1}, {})
    result = outcome.result
    assert result.status == WorkflowStatus.ROLLED_BACK
    assert "the timeout passed" in (result.steps[1].error or "")
    assert [c["action"] for c in wfo_calls.read()] == ["do", "undo"]


def test_timeout_into_approve_continues(dags_folder: Path, wfo_calls: Any) -> None:
    outcome = _run(_approval_defn("approval_auto", timeout=1000, onTimeout="approve"), {"amount": 1}, {})
    result = outcome.result
    assert result.status == WorkflowStatus.COMPLETED, result.error
    answer = result.steps[1].result.data
    assert answer["approved"] is True and answer["by"] == "timeout"


def test_answers_from_the_command_line() -> None:
    assert parse_answers(["a", "b:fine by me"], ["c:no budget"]) == {
        "a": Answer(True),
        "b": Answer(True, "fine by me"),
        "c": Answer(False, "no budget"),
    }
    with pytest.raises(ValueError, match="answered twice"):
        parse_answers(["a"], ["a"])


def test_wfo_run_answers_from_the_command_line(
    tmp_path: Path, dags_folder: Path, wfo_calls: Any, capfd: Any
) -> None:
    import json

    from airflow_provider_wfo.cli import main

    path = tmp_path / "approval_cli.json"
    path.write_text(json.dumps(_approval_defn("approval_cli")))
    assert (
        main(["run", str(path), "--conf", '{"amount": 5}', "--reject", "approve:too much", "--no-progress"])
        == 1
    )
    text = capfd.readouterr().out
    assert "ROLLED BACK" in text and f"rejected by {respondent()['name']}: too much" in text
    assert main(["run", str(path), "--approve", "nosuch"]) == 2
    assert "not an approval step" in capfd.readouterr().err
