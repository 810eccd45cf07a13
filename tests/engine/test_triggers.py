"""Schedules through a real engine: the catch-up policy for ticks missed while no process
ran, and no tick run twice across restarts."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from accord.domain.triggers import ScheduleSpec
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.triggers import TriggerRepository
from accord.storage.tables import epoch_now, workflow_schedules
from engine.conftest import MakeWorkflow, steps


def hourly(db: Database, user_id: str, workflow_id: str, catch_up: str) -> str:
    """An hourly schedule made two hours ago, so this hour's tick was missed."""
    with db.session() as s:
        made = TriggerRepository(s).add_schedule(
            workflow_id=workflow_id,
            user_id=user_id,
            spec=ScheduleSpec.model_validate({"every": "1h", "catchUp": catch_up}),
        )
        s.execute(
            update(workflow_schedules)
            .where(workflow_schedules.c.id == made.id)
            .values(created_at=epoch_now() - 7200)
        )
    return made.id


def runs(db: Database, workflow_id: str, user_id: str) -> list[dict[str, object]]:
    with db.read_session() as s:
        return [
            e.execution_context
            for e in ExecutionRepository(s).list_for_workflow(workflow_id, user_id=user_id)
        ]


async def test_a_missed_tick_runs_once_when_the_policy_says_once_and_never_again(
    db: Database, user_id: str, make_workflow: MakeWorkflow, tmp_path: Path
) -> None:
    once, skip = make_workflow(steps("a")), make_workflow(steps("a"))
    hourly(db, user_id, once, "once")
    hourly(db, user_id, skip, "skip")
    missed = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    for _ in range(2):  # a restart finds the tick done and starts nothing more
        engine = Engine(
            db,
            LatencyPerformer(),
            executor_id=f"test-{uuid.uuid4().hex[:8]}",
            state_dir=tmp_path,
        )
        await engine.start()
        try:
            for _ in range(100):
                if runs(db, once, user_id):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)
        finally:
            await engine.stop()
        [context] = runs(db, once, user_id)
        assert datetime.fromisoformat(str(context["scheduledAt"])) == missed
        assert runs(db, skip, user_id) == []
