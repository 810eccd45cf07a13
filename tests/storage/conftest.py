"""Helpers for the storage conformance tests: small builders over the real repositories."""

import uuid
from collections.abc import Callable

import pytest

from accord.domain.agent import Agent
from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration, WorkflowStep
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.users import UserRepository


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
    def make(user_id: str, role: str = "developer", **fields) -> Agent:
        with db.session() as s:
            return AgentRepository(s).create(
                user_id=user_id, name=fields.pop("name", role.title()), role=role, **fields
            )

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
