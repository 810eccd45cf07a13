"""The `make_crew` fixture: a user's agents in a workflow with a running execution."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.domain.enums import ExecutionStatus, TriggerReason, WorkflowType
from accord.domain.plan import compile_workflow
from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.workflows import WorkflowRepository

from .helpers import DEFAULT_AGENTS, AgentSpec, Crew


@pytest.fixture
def make_crew(db: Database, user_id: str, tmp_path: Path) -> Callable[..., Crew]:
    """`make(steps=...)`: a crew of the user's agents on a new workflow; a second crew's agents
    are numbered (`Ada (2)`), since a user's agent names are unique."""
    crews = 0

    def make(
        *,
        steps: list[dict[str, Any]],
        agents: list[AgentSpec] = DEFAULT_AGENTS,
        coordinator: str | None = None,
        coordination: dict[str, Any] | None = None,
        constraints: dict[str, Any] | None = None,
        workflow_type: WorkflowType = WorkflowType.PIPELINE,
        mcp_servers: dict[str, Any] | None = None,
        tools: dict[str, list[str]] | None = None,
        toolkits: dict[str, Any] | None = None,
        function_tools: dict[str, Any] | None = None,
    ) -> Crew:
        """`tools`: agent name -> its allow-list (`mcp_servers`, `toolkits` and
        `function_tools` declare what it may name)."""
        config = WorkflowConfiguration.model_validate(
            {
                "steps": steps,
                "coordination": coordination or {},
                "constraints": constraints or {},
                "mcpServers": mcp_servers or {},
                "toolkits": toolkits or {},
                "functionTools": function_tools or {},
            }
        )
        nonlocal crews
        crews += 1
        with db.session() as s:
            made = {
                name: AgentRepository(s).create(
                    user_id=user_id,
                    name=name if crews == 1 else f"{name} ({crews})",
                    role=role,
                    skills=skills,
                    backstory=f"{name} backstory",
                    tools=(tools or {}).get(name, []),
                )
                for name, role, skills in agents
            }
            request = CreateWorkflowRequest(
                name="Team test",
                description="",
                workflow_type=workflow_type,
                participating_agents=[a.id for a in made.values()],
                coordinator_agent_id=made[coordinator].id if coordinator else None,
                configuration=config,
            )
            workflow = WorkflowRepository(s).create(user_id, request)
            execution = ExecutionRepository(s).create(
                workflow_id=workflow.id,
                user_id=user_id,
                trigger_reason=TriggerReason.MANUAL,
                triggered_by=user_id,
                definition={},
                # Not running: an engine started by any later test in this session recovers
                # running executions, and this one has no definition to run.
                status=ExecutionStatus.PENDING,
            )
        plan = compile_workflow(
            workflow_type=workflow_type,
            configuration=config,
            participating_agents=request.participating_agents,
            coordinator_agent_id=request.coordinator_agent_id,
            owned_agents={a.id: a for a in made.values()},
        )
        return Crew(
            db=db,
            user_id=user_id,
            agents=made,
            workflow_id=workflow.id,
            execution_id=execution.id,
            plan=plan,
            workspaces=tmp_path / "workspaces",
        )

    return make
