"""Engine fixtures: a user's agents and workflows written straight to the tables (the
workflows repository belongs to another layer), and a running `Engine` per test."""

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from accord.domain.enums import TriggerReason
from accord.domain.execution import WorkflowExecution
from accord.domain.workflow import WorkflowConfiguration
from accord.engine.attempt_keys import AttemptKey
from accord.engine.runner import ExecutionRunner
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.tables import agents, collaboration_workflows, epoch_now

MakeWorkflow = Callable[..., str]


def add_agents(db: Database, user_id: str, roles: list[str]) -> list[str]:
    ids = []
    with db.session() as s:
        for role in roles:
            agent_id = str(uuid.uuid4())
            s.execute(
                insert(agents).values(
                    id=agent_id,
                    user_id=user_id,
                    name=role.title(),
                    role=role,
                    skills=[],
                    created_at=epoch_now(),
                    updated_at=epoch_now(),
                )
            )
            ids.append(agent_id)
    return ids


def add_workflow(
    db: Database,
    user_id: str,
    agent_ids: list[str],
    steps: list[dict[str, Any]],
    *,
    workflow_type: str = "pipeline",
    **constraints: Any,
) -> str:
    configuration = WorkflowConfiguration.model_validate(
        {"steps": steps, "constraints": constraints}
    )
    workflow_id = str(uuid.uuid4())
    with db.session() as s:
        s.execute(
            insert(collaboration_workflows).values(
                id=workflow_id,
                user_id=user_id,
                name="wf",
                description="test workflow",
                workflow_type=workflow_type,
                configuration=configuration.to_json_dict(),
                participating_agents=agent_ids,
                status="draft",
                created_at=epoch_now(),
                updated_at=epoch_now(),
            )
        )
    return workflow_id


def steps(*ids: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"Step {i}", **extra} for i in ids]


def start_and_mark(
    runner: ExecutionRunner, db: Database, *, workflow_id: str, user_id: str, agent_id: str
) -> tuple[WorkflowExecution, AttemptKey]:
    """An execution of a one-step workflow, started by `runner` without an engine, with its
    first attempt marked running by `agent_id` (as the engine does before the call)."""
    with db.session() as s:
        execution, started = runner.start_execution(
            s,
            workflow_id=workflow_id,
            user_id=user_id,
            trigger_reason=TriggerReason.MANUAL,
            triggered_by=user_id,
        )
    (key,) = started.dispatch
    with db.session() as s:
        assert runner.mark_attempts(s, [(key, agent_id)])[0].status == "go"
    return execution, key


@pytest.fixture
def agent_ids(db: Database, user_id: str) -> list[str]:
    return add_agents(db, user_id, ["developer", "reviewer"])


@pytest.fixture
def make_workflow(db: Database, user_id: str, agent_ids: list[str]) -> MakeWorkflow:
    def make(
        step_list: list[dict[str, Any]], workflow_type: str = "pipeline", **constraints: Any
    ) -> str:
        return add_workflow(
            db, user_id, agent_ids, step_list, workflow_type=workflow_type, **constraints
        )

    return make


@pytest.fixture
def performer() -> LatencyPerformer:
    return LatencyPerformer()


@pytest.fixture
async def engine(
    db: Database, performer: LatencyPerformer, tmp_path: Path
) -> AsyncIterator[Engine]:
    eng = Engine(
        db,
        performer,
        executor_id=f"test-{uuid.uuid4().hex[:8]}",
        backoff_base_s=0.01,
        state_dir=tmp_path,
    )
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()
