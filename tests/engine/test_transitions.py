"""The legal status transitions, in one place."""

import pytest

from accord.domain.enums import ExecutionStatus, StepRunStatus, WorkflowStatus
from accord.domain.errors import IllegalTransition
from accord.domain.transitions import can_transition, check_transition, check_workflow_start


@pytest.mark.parametrize("current", ["draft", "completed", "failed"])
def test_a_workflow_starts_from_draft_completed_or_failed(current: str) -> None:
    check_workflow_start("w1", current)
    check_transition("workflow", "w1", current, "active")


@pytest.mark.parametrize("current", ["active", "paused"])
def test_a_running_or_paused_workflow_cannot_start_again(current: str) -> None:
    with pytest.raises(IllegalTransition) as err:
        check_workflow_start("w1", current)
    assert err.value.current == current
    assert err.value.details == {
        "kind": "workflow",
        "id": "w1",
        "current": current,
        "requested": "active",
    }


def test_an_active_workflow_always_has_a_way_to_end() -> None:
    for status in (WorkflowStatus.ACTIVE, WorkflowStatus.PAUSED):
        assert can_transition("workflow", status, "completed")
        assert can_transition("workflow", status, "failed")


def test_ended_executions_and_step_runs_never_move() -> None:
    for ended in ("completed", "failed", "cancelled"):
        for target in ExecutionStatus:
            assert not can_transition("execution", ended, target)
    for ended in ("completed", "failed", "skipped", "cancelled"):
        for target in StepRunStatus:
            assert not can_transition("step run", ended, target)


def test_pause_resume_cancel() -> None:
    assert can_transition("execution", "running", "paused")
    assert can_transition("execution", "paused", "running")
    assert can_transition("execution", "paused", "cancelled")
    assert not can_transition("execution", "running", "running")
    with pytest.raises(IllegalTransition, match="from 'completed' to 'paused'"):
        check_transition("execution", "e1", "completed", "paused")
