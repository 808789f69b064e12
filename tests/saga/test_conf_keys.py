"""Issue 11 item 7: a workflow that declares params takes only those conf keys (docs/decisions.md):
``wfo run --conf``, ``execute_workflow`` and a run triggered through Airflow (its first task)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wfo.cli import main
from airflow_provider_wfo.definition.conf import ConfError

DEFN: dict[str, Any] = {
    "id": "conf-keys",
    "name": "Conf keys",
    "params": {
        "customerId": {"type": "string", "default": "C-1"},
        "amount": {"type": "number", "default": 1},
    },
    "steps": [{"id": "a", "action": "do", "target": "test", "params": {"who": "$customerId"}}],
}
TYPO = (
    "'custmerId' is not a param of this workflow; did you mean 'customerId'? (its params: amount, customerId)"
)


def test_wfo_run_refuses_an_undeclared_conf_key(tmp_path: Path, capfd: Any) -> None:
    path = tmp_path / "conf-keys.json"
    path.write_text(json.dumps(DEFN))
    assert main(["run", str(path), "--no-progress", "--conf", '{"custmerId": "C-9"}']) == 2
    assert f"--conf: {TYPO}" in capfd.readouterr().err


def test_execute_workflow_refuses_an_undeclared_key(airflow_db: Path) -> None:
    from airflow_provider_wfo import execute_workflow

    with pytest.raises(ConfError, match="the initial context: 'custmerId' is not a param"):
        execute_workflow(DEFN, {"custmerId": "C-9"})


def test_declared_keys_and_workflows_without_params_still_run(run_workflow: Any, wfo_calls: Any) -> None:
    assert run_workflow(DEFN, {"customerId": "C-2", "amount": 3}).success
    free = {k: v for k, v in DEFN.items() if k != "params"}
    free = {
        **free,
        "id": "conf-free",
        "steps": [{"id": "a", "action": "do", "target": "test", "params": {"x": "$x"}}],
    }
    assert run_workflow(free, {"x": 1, "anything": "else"}).success


@pytest.mark.timeout(300)
def test_a_triggered_run_with_an_undeclared_key_fails_in_its_first_task(
    run_workflow: Any, wfo_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_provider_wfo.local.runner as runner

    monkeypatch.setattr(runner, "check_conf_keys", lambda *a, **k: None)  # as if triggered through the API
    result = run_workflow(DEFN, {"custmerId": "C-9"})
    assert result.success is False
    assert f"the run conf: {TYPO}" in (result.error or "")
    assert wfo_calls.read() == []
