"""The engine's repositories on both backends: execution numbers, step runs, the event log."""

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from accord.domain.enums import StepRunStatus, TriggerReason
from accord.domain.errors import IllegalTransition
from accord.storage.db import Database
from accord.storage.repositories.events import GAP_GRACE_S, EventRepository, SettledHorizon
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository

from .conftest import MakeWorkflow, steps


def new_execution(db: Database, workflow_id: str, user_id: str) -> str:
    with db.session() as s:
        repo = ExecutionRepository(s)
        repo.workflow(workflow_id, user_id=user_id, lock=True)
        return repo.create(
            workflow_id=workflow_id,
            user_id=user_id,
            trigger_reason=TriggerReason.MANUAL,
            triggered_by=user_id,
            definition={},
        ).id


async def test_concurrent_starts_draw_distinct_execution_numbers(
    db: Database, make_workflow: MakeWorkflow, user_id: str
) -> None:
    wf = make_workflow(steps("a"))
    ids = await asyncio.gather(
        *(asyncio.to_thread(new_execution, db, wf, user_id) for _ in range(8))
    )
    with db.session() as s:
        numbers = sorted(
            e.execution_number
            for e in ExecutionRepository(s).list_for_workflow(wf, user_id=user_id)
        )
    assert len(set(ids)) == 8 and numbers == list(range(1, 9))


def test_step_runs_are_unique_per_attempt_and_move_legally(
    db: Database, make_workflow: MakeWorkflow, user_id: str
) -> None:
    execution_id = new_execution(db, make_workflow(steps("a")), user_id)
    with db.session() as s:
        runs = StepRunRepository(s)
        run = runs.create(execution_id=execution_id, step_id="a", attempt=1)
        run = runs.start(run, agent_id=None, executor_id="x")
        done = runs.finish(run, StepRunStatus.COMPLETED, output={"summary": "s"})
        assert done.status == "completed" and done.output == {"summary": "s"}
        with pytest.raises(IllegalTransition):
            runs.start(done, agent_id=None, executor_id="x")
    with pytest.raises(IntegrityError), db.session() as s:
        StepRunRepository(s).create(execution_id=execution_id, step_id="a", attempt=1)


def test_events_are_read_in_order_after_an_id_per_execution_and_per_user(
    db: Database, make_workflow: MakeWorkflow, user_id: str
) -> None:
    wf = make_workflow(steps("a"))
    first, second = new_execution(db, wf, user_id), new_execution(db, wf, user_id)
    with db.session() as s:
        start = EventRepository(s).newest_id()
    with db.session() as s:
        events = EventRepository(s)
        for i in range(3):
            events.append(
                execution_id=first,
                user_id=user_id,
                kind="step.started",
                step_id="a",
                data={"attempt": i},
            )
        events.append(execution_id=second, user_id=user_id, kind="execution.created")
    with db.session() as s:
        events = EventRepository(s)
        mine = events.settled_after(SettledHorizon(start, GAP_GRACE_S), user_id=user_id)
        assert [e.kind for e in mine] == ["step.started"] * 3 + ["execution.created"]
        one = events.settled_after(
            SettledHorizon(mine[0].id, GAP_GRACE_S), user_id=user_id, execution_id=first
        )
        assert [e.data["attempt"] for e in one] == [1, 2]
        others = SettledHorizon(start, GAP_GRACE_S)
        assert events.settled_after(others, user_id="someone-else") == []
        assert others.horizon == mine[-1].id  # past everyone's events, shown or not
        assert [e.id for e in events.of_execution(user_id=user_id, execution_id=first)] == [
            e.id for e in mine[:3]
        ]
