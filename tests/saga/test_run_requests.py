"""What a run asks of Airflow's API server, counted where every task's requests go (the task
supervisor under ``dag.test``; on a cluster the same messages become HTTP calls to the api-server).

The guarantees (issue 14): a forward step of a single-chain workflow makes no request beyond what a
bare ``@task`` makes (its result, its outcome record, its final state; a ``@task`` sends its rendered
fields instead of the record), and the result task reads one XCom per step plus the run's states.
Counts, not timings: the benchmark in ``bench/`` measures the time.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wfo.results import WorkflowStatus

pytestmark = pytest.mark.slow


@pytest.fixture
def requests_by_task(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, collections.Counter[str]]]:
    from airflow.sdk.execution_time import supervisor

    seen: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    current: list[str] = []
    start = supervisor.InProcessTestSupervisor.start.__func__  # type: ignore[attr-defined]
    handle = supervisor.InProcessTestSupervisor._handle_request

    def counting_start(cls: Any, *, what: Any, **kwargs: Any) -> Any:
        current.append(str(what.task_id))
        try:
            return start(cls, what=what, **kwargs)
        finally:
            current.pop()

    def counting_handle(self: Any, msg: Any, *args: Any, **kwargs: Any) -> Any:
        if current:
            seen[current[-1]][type(msg).__name__] += 1
        return handle(self, msg, *args, **kwargs)

    monkeypatch.setattr(supervisor.InProcessTestSupervisor, "start", classmethod(counting_start))
    monkeypatch.setattr(supervisor.InProcessTestSupervisor, "_handle_request", counting_handle)
    yield seen


def test_a_chain_step_asks_no_more_than_a_bare_task_and_the_result_reads_once_per_step(
    run_workflow: Any, requests_by_task: dict[str, collections.Counter[str]]
) -> None:
    steps = [
        {
            "id": f"s{i}",
            "action": "do",
            "target": "test",
            "params": {"n": i, **({"prev": f"$s{i - 1}.id"} if i else {})},
        }
        for i in range(4)
    ]
    result = run_workflow({"id": "requests-chain", "name": "Chain", "steps": steps})
    assert result.status is WorkflowStatus.COMPLETED
    for i in range(4):
        counts = dict(requests_by_task[f"s{i}"])
        # Reading the referenced result is what the @task's XComArg argument costs too.
        reads = counts.pop("GetXComSequenceSlice", 0)
        assert reads == (1 if i else 0), (f"s{i}", requests_by_task[f"s{i}"])
        assert counts == {"SetXCom": 2, "SucceedTask": 1}, (f"s{i}", counts)
    final = dict(requests_by_task["workflow_result"])
    assert final.pop("GetXComSequenceSlice") == 4, final  # one per step: the outcome carries the result
    assert final.pop("GetTaskStates") == 1, final
    assert set(final) <= {"SetXCom", "SucceedTask", "TaskState"}, final
