"""The abort check is skipped only where it cannot find anything: a workflow that is one chain."""

from airflow_provider_wfo.definition.models import WorkflowDefinition
from airflow_provider_wfo.factory.plan import plan_for as build_plan
from airflow_provider_wfo.saga.plan import SagaPlan


def _plan(*steps: dict[str, object], **extra: object) -> SagaPlan:
    data = {"id": "w", "name": "w", "steps": list(steps), **extra}
    return build_plan(WorkflowDefinition.model_validate(data))


def _step(step_id: str, **fields: object) -> dict[str, object]:
    return {"id": step_id, "action": "do", "target": "test", **fields}


def test_a_chain_needs_no_abort_check() -> None:
    assert _plan(_step("a"), _step("b"), _step("c", dependsOn=["b"])).guard_ids == ()


def test_parallel_branches_keep_the_abort_check() -> None:
    plan = _plan(_step("a"), _step("b", dependsOn=["a"]), _step("c", dependsOn=["a"]))
    assert plan.guard_ids == ("a", "b", "c")


def test_two_roots_keep_the_abort_check_and_optional_steps_count_only_when_asked() -> None:
    steps = (_step("a"), _step("b", dependsOn=[], optional=True))
    assert _plan(*steps).guard_ids == ("a",)
    assert _plan(*steps, continueOnOptionalFailure=False).guard_ids == ("a", "b")
