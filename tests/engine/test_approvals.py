"""Tool calls that wait for a user's approval: a durable wait inside the attempt's DBOS
workflow, decided by a user (or by the deadline), surviving restarts of the engine."""

import uuid
from pathlib import Path

import pytest

from accord.domain.approval import ToolApproval
from accord.domain.errors import IllegalTransition, NotFound
from accord.engine import approvals
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.approvals import ApprovalRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.users import UserRepository

from .conftest import MakeWorkflow, steps
from .test_engine import events_of, runs_of, until

ASKS = {"write": ("files", "write_file")}


@pytest.fixture
def performer() -> LatencyPerformer:
    return LatencyPerformer(ask_approval=ASKS)


def pending(db: Database, user_id: str, execution_id: str) -> list[ToolApproval]:
    with db.read_session() as s:
        return ApprovalRepository(s).list(
            user_id=user_id, execution_id=execution_id, status="pending"
        )


async def first_pending(db: Database, user_id: str, execution_id: str) -> ToolApproval:
    await until(lambda: bool(pending(db, user_id, execution_id)))
    return pending(db, user_id, execution_id)[0]


def approval_data(db: Database, execution_id: str) -> dict:
    (run,) = [r for r in runs_of(db, execution_id) if r.step_id == "write"]
    return run.output["data"]["approval"]


async def test_an_approved_call_goes_on_and_the_request_is_recorded_redacted(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str
) -> None:
    execution = await engine.start_execution(make_workflow(steps("write", "after")), user_id)
    asked = await first_pending(db, user_id, execution.id)
    assert (asked.step_id, asked.attempt, asked.server, asked.tool) == (
        "write",
        1,
        "files",
        "write_file",
    )
    assert asked.agent_name == "Developer"
    assert asked.arguments == {"path": "write.txt", "apiKey": "[redacted]"}
    # The attempt waits: nothing after it has started.
    assert [r.step_id for r in runs_of(db, execution.id)] == ["write"]

    decided = await engine.decide_approval(asked.id, user_id, approve=True, reason="fine")
    assert decided.status == "approved" and decided.decided_by == user_id

    done = await engine.wait(execution.id, 20)
    assert done.status == "completed"
    assert approval_data(db, execution.id) == {
        "id": asked.id,
        "status": "approved",
        "approved": True,
        "reason": "fine",
    }
    events = [e for e in events_of(db, user_id, execution.id) if e.kind.startswith("approval.")]
    assert [(e.kind, e.data["decision"]) for e in events] == [
        ("approval.requested", None),
        ("approval.decided", "approved"),
    ]
    assert events[0].data["arguments"]["apiKey"] == "[redacted]"
    assert events[0].data["agentName"] == "Developer" and events[0].step_id == "write"


async def test_a_rejection_and_its_reason_reach_the_attempt(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str
) -> None:
    execution = await engine.start_execution(make_workflow(steps("write")), user_id)
    asked = await first_pending(db, user_id, execution.id)
    await engine.decide_approval(asked.id, user_id, approve=False, reason="not that file")
    assert (await engine.wait(execution.id, 20)).status == "completed"
    data = approval_data(db, execution.id)
    assert (data["status"], data["approved"], data["reason"]) == (
        "rejected",
        False,
        "not that file",
    )


async def test_a_decision_is_made_once_and_only_by_the_owner(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str
) -> None:
    execution = await engine.start_execution(make_workflow(steps("write")), user_id)
    asked = await first_pending(db, user_id, execution.id)
    with db.session() as s:
        intruder = UserRepository(s).create(
            email=f"{uuid.uuid4().hex[:8]}@example.test", display_name="Mallory"
        )
        assert ApprovalRepository(s).list(user_id=intruder.id) == []
    with pytest.raises(NotFound):
        await engine.decide_approval(asked.id, intruder.id, approve=True)
    await engine.decide_approval(asked.id, user_id, approve=False)
    with pytest.raises(IllegalTransition):
        await engine.decide_approval(asked.id, user_id, approve=True)
    assert (await engine.wait(execution.id, 20)).status == "completed"
    assert approval_data(db, execution.id)["status"] == "rejected"


@pytest.mark.parametrize("outcome", ["approve", "reject"])
async def test_an_undecided_approval_expires_at_its_deadline_with_the_chosen_outcome(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str, outcome: str
) -> None:
    wf = make_workflow(steps("write"), approvalTimeoutMinutes=0.01, approvalTimeoutOutcome=outcome)
    execution = await engine.start_execution(wf, user_id)
    assert (await engine.wait(execution.id, 20)).status == "completed"
    data = approval_data(db, execution.id)
    assert (data["status"], data["approved"]) == ("expired", outcome == "approve")
    assert "no decision within 0.01 minutes" in data["reason"]
    assert "approvalTimeoutOutcome" in data["reason"]


async def test_ending_the_execution_expires_its_pending_approvals(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str
) -> None:
    execution = await engine.start_execution(make_workflow(steps("write")), user_id)
    asked = await first_pending(db, user_id, execution.id)
    await engine.cancel(execution.id, user_id)
    assert (await engine.wait(execution.id, 20)).status == "cancelled"
    with db.read_session() as s:
        closed = ApprovalRepository(s).get(asked.id)
    assert closed.status == "expired" and "the execution ended" in closed.reason
    with pytest.raises(IllegalTransition):
        await engine.decide_approval(asked.id, user_id, approve=True)


def new_engine(db: Database, performer: LatencyPerformer, state: Path, executor: str) -> Engine:
    return Engine(db, performer, executor_id=executor, backoff_base_s=0.01, state_dir=state)


@pytest.mark.parametrize("decided_while_down", [False, True])
async def test_an_approval_survives_a_restart_of_the_engine(
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
    tmp_path: Path,
    decided_while_down: bool,
) -> None:
    """The engine stops while the attempt waits; another starts (same executor: it resumes
    the attempt), and the decision, made after the restart or while nothing ran, reaches
    the attempt, which completes without making its first recorded call again."""
    performer = LatencyPerformer(ask_approval=ASKS)
    executor = f"test-{uuid.uuid4().hex[:8]}"
    first = new_engine(db, performer, tmp_path, executor)
    await first.start()
    try:
        execution = await first.start_execution(make_workflow(steps("write")), user_id)
        asked = await first_pending(db, user_id, execution.id)
    finally:
        await first.stop()
    if decided_while_down:  # written to the tables alone: no process could be woken
        with db.session() as s:
            approvals.decide(s, asked.id, user_id=user_id, approve=True, reason="while down")

    second = new_engine(db, performer, tmp_path, executor)
    await second.start()
    try:
        if not decided_while_down:
            await until(lambda: asked.id in {a.id for a in pending(db, user_id, execution.id)})
            await second.decide_approval(asked.id, user_id, approve=True, reason="after")
        done = await second.wait(execution.id, 30)
    finally:
        await second.stop()
    assert done.status == "completed"
    data = approval_data(db, execution.id)
    assert (data["id"], data["status"]) == (asked.id, "approved")
    assert data["reason"] == ("while down" if decided_while_down else "after")
    with db.read_session() as s:
        assert len(ApprovalRepository(s).list(user_id=user_id, execution_id=execution.id)) == 1
        assert ExecutionRepository(s).get(execution.id).status == "completed"
