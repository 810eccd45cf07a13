"""Helpers for the storage conformance tests: small builders over the real repositories."""

import uuid
from collections.abc import Callable, Iterator

import pytest

from accord.domain.agent import Agent
from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration, WorkflowStep
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.testing import scratch_postgres_database


@pytest.fixture
def make_user(db: Database) -> Callable[[], str]:
    def make() -> str:
        with db.session() as s:
            return (
                UserRepository(s)
                .create(email=f"{uuid.uuid4().hex[:10]}@example.test", display_name="Someone")
                .id
            )

    return make


@pytest.fixture
def make_agent(db: Database) -> Callable[..., Agent]:
    """`make(user_id, role)`: named after the role, numbered from the second one on, since a
    user's agents have unique names."""

    def make(user_id: str, role: str = "developer", **fields) -> Agent:
        with db.session() as s:
            repo = AgentRepository(s)
            name = fields.pop("name", None)
            if name is None:
                taken = {a.name for a in repo.list(user_id=user_id)}
                name = next(
                    n
                    for n in (f"{role.title()}{f' {i}' if i else ''}" for i in range(99))
                    if n not in taken
                )
            return repo.create(user_id=user_id, name=name, role=role, **fields)

    return make


def two_step_request(agents: list[Agent], **fields) -> CreateWorkflowRequest:
    """A valid pipeline: design, then build, by the given agents (a module-level builder, also
    served as a fixture so test modules need not import this conftest)."""
    return CreateWorkflowRequest(
        name=fields.pop("name", "Ship it"),
        description="Design then build",
        participating_agents=[a.id for a in agents],
        configuration=WorkflowConfiguration(
            steps=[
                WorkflowStep(id="design", name="Design"),
                WorkflowStep(id="build", name="Build", depends_on=["design"]),
            ]
        ),
        **fields,
    )


@pytest.fixture(name="two_step_request")
def two_step_request_fixture() -> Callable[..., CreateWorkflowRequest]:
    return two_step_request


@pytest.fixture
def make_workflow(db: Database, make_agent) -> Callable[..., tuple[str, list[Agent]]]:
    """A stored two-step workflow of `user_id` with two agents; returns (workflow ID, agents)."""

    def make(user_id: str, **fields) -> tuple[str, list[Agent]]:
        from accord.storage.repositories.workflows import WorkflowRepository

        team = [make_agent(user_id, "architect"), make_agent(user_id, "developer")]
        with db.session() as s:
            workflow = WorkflowRepository(s).create(user_id, two_step_request(team, **fields))
        return workflow.id, team

    return make


@pytest.fixture
def make_execution(db: Database) -> Callable[..., str]:
    """A bare execution row (the engine's repository makes real ones), for the rows that
    hang off an execution: interactions, knowledge."""

    def make(
        workflow_id: str,
        user_id: str,
        *,
        status: str = "running",
        parent_execution_id: str | None = None,
    ) -> str:
        from sqlalchemy import func, insert, select

        from accord.storage.tables import new_id, workflow_executions

        with db.session() as s:
            number = s.execute(
                select(
                    func.coalesce(func.max(workflow_executions.c.execution_number), 0) + 1
                ).where(workflow_executions.c.workflow_id == workflow_id)
            ).scalar_one()
            execution_id = new_id()
            s.execute(
                insert(workflow_executions).values(
                    id=execution_id,
                    workflow_id=workflow_id,
                    execution_number=number,
                    trigger_reason="manual",
                    status=status,
                    user_id=user_id,
                    parent_execution_id=parent_execution_id,
                )
            )
        return execution_id

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A brand-new, empty database on each backend (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_postgres_database("accord_test_fresh") as url:
        yield url
