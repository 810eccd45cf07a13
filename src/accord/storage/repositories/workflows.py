"""Workflows: definitions validated by the plan compiler before anything is written, and the
progress fields the engine keeps current while they run."""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import os
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.enums import WorkflowStatus, WorkflowType
from accord.domain.errors import InvalidDefinition, NotFound, Problem
from accord.domain.estimates import estimate_duration
from accord.domain.metrics import CollaborationMetrics
from accord.domain.plan import WorkflowPlan, compile_workflow
from accord.domain.transitions import check_transition
from accord.domain.workflow import (
    CollaborationWorkflow,
    CreateWorkflowRequest,
    ExecutionRecord,
    UpdateWorkflowRequest,
    WorkflowConfiguration,
)
from accord.storage.repositories._convert import to_datetime, to_optional_datetime
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository, WorkflowForRun
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.storage.tables import collaboration_workflows, epoch_now, new_id, projects

wf = collaboration_workflows

# Run as each step ends: built once (building a statement costs more than running it).
_SET_CURRENT_STEP = (
    update(wf)
    .where(wf.c.id == bindparam("workflow_id"))
    .values(current_step=bindparam("current_step"))
)


def _workflow(row: Row[Any]) -> CollaborationWorkflow:
    return CollaborationWorkflow(
        id=row.id,
        user_id=row.user_id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        workflow_type=WorkflowType(row.workflow_type),
        configuration=WorkflowConfiguration.model_validate(row.configuration),
        participating_agents=row.participating_agents,
        coordinator_agent_id=row.coordinator_agent_id,
        status=WorkflowStatus(row.status),
        current_step=row.current_step or 0,
        total_steps=row.total_steps or 0,
        execution_history=[ExecutionRecord.model_validate(r) for r in row.execution_history or []],
        collaboration_metrics=None
        if row.collaboration_metrics is None
        else CollaborationMetrics.model_validate(row.collaboration_metrics),
        final_result=row.final_result,
        started_at=to_optional_datetime(row.started_at),
        completed_at=to_optional_datetime(row.completed_at),
        estimated_duration=row.estimated_duration,
        actual_duration=row.actual_duration,
        template_id=row.template_id,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


class WorkflowRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- Definitions (scoped by user) -------------------------------------------------------

    def create(
        self, user_id: str, request: CreateWorkflowRequest, *, template_id: str | None = None
    ) -> CollaborationWorkflow:
        """Validate the definition against the user's agents and workflows, then store it.
        Raises InvalidDefinition, having written nothing, when the definition cannot run."""
        self._check_project(request.project_id, user_id)
        self._compile(
            user_id,
            request.workflow_type,
            request.configuration,
            request.participating_agents,
            request.coordinator_agent_id,
            environment=os.environ,
        )
        now = epoch_now()
        row = self.session.execute(
            insert(wf)
            .values(
                id=new_id(),
                user_id=user_id,
                project_id=request.project_id,
                name=request.name,
                description=request.description,
                workflow_type=request.workflow_type.value,
                configuration=request.configuration.to_json_dict(),
                participating_agents=list(request.participating_agents),
                coordinator_agent_id=request.coordinator_agent_id,
                status=WorkflowStatus.DRAFT.value,
                current_step=0,
                total_steps=len(request.configuration.steps),
                execution_history=[],
                template_id=template_id,
                estimated_duration=self._estimate(
                    None, template_id, len(request.configuration.steps)
                ),
                created_at=now,
                updated_at=now,
            )
            .returning(wf)
        ).one()
        return _workflow(row)

    def validate(self, user_id: str, request: CreateWorkflowRequest) -> WorkflowPlan:
        """Check a definition without saving it (raises InvalidDefinition)."""
        self._check_project(request.project_id, user_id)
        return self._compile(
            user_id,
            request.workflow_type,
            request.configuration,
            request.participating_agents,
            request.coordinator_agent_id,
            environment=os.environ,
        )

    def get(self, workflow_id: str, *, user_id: str) -> CollaborationWorkflow:
        return _workflow(self._row(workflow_id, user_id))

    def list(
        self,
        *,
        user_id: str,
        status: WorkflowStatus | None = None,
        project_id: str | None = None,
    ) -> builtins.list[CollaborationWorkflow]:
        """The user's workflows, most recently created first."""
        query = select(wf).where(wf.c.user_id == user_id)
        if status is not None:
            query = query.where(wf.c.status == WorkflowStatus(status).value)
        if project_id is not None:
            query = query.where(wf.c.project_id == project_id)
        rows = self.session.execute(query.order_by(wf.c.created_at.desc(), wf.c.name, wf.c.id))
        return [_workflow(r) for r in rows]

    def update(
        self, workflow_id: str, *, user_id: str, request: UpdateWorkflowRequest
    ) -> CollaborationWorkflow:
        """Apply the fields the request sets, validate the result whole, then store it."""
        current = self.get(workflow_id, user_id=user_id)
        given = request.model_fields_set
        name = request.name if request.name is not None else current.name
        description = (
            request.description if request.description is not None else current.description
        )
        workflow_type = request.workflow_type or current.workflow_type
        participating_agents = (
            request.participating_agents
            if request.participating_agents is not None
            else current.participating_agents
        )
        coordinator_agent_id = (
            request.coordinator_agent_id
            if "coordinator_agent_id" in given
            else current.coordinator_agent_id
        )
        configuration = request.configuration or current.configuration
        project_id = request.project_id if "project_id" in given else current.project_id
        self._check_project(project_id, user_id)
        self._compile(
            user_id,
            workflow_type,
            configuration,
            participating_agents,
            coordinator_agent_id,
            self_id=workflow_id,
            environment=os.environ,
        )
        row = self.session.execute(
            update(wf)
            .where(wf.c.id == workflow_id)
            .values(
                name=name,
                description=description,
                workflow_type=WorkflowType(workflow_type).value,
                participating_agents=list(participating_agents),
                coordinator_agent_id=coordinator_agent_id,
                configuration=configuration.to_json_dict(),
                total_steps=len(configuration.steps),
                estimated_duration=self._estimate(
                    workflow_id, current.template_id, len(configuration.steps)
                ),
                project_id=project_id,
                updated_at=epoch_now(),
            )
            .returning(wf)
        ).one()
        return _workflow(row)

    def delete(self, workflow_id: str, *, user_id: str) -> None:
        """Delete the workflow with its executions, interactions and knowledge (cascade)."""
        self._row(workflow_id, user_id)
        self.session.execute(delete(wf).where(wf.c.id == workflow_id))

    # --- Progress (for the engine, which acts on workflows it has already authorised) -------

    def set_status(self, workflow: WorkflowForRun, status: WorkflowStatus, **values: Any) -> None:
        """Move the workflow along a legal transition, setting `values` with it."""
        check_transition("workflow", workflow.id, workflow.status, status)
        self.session.execute(
            update(wf)
            .where(wf.c.id == workflow.id)
            .values(status=status, updated_at=epoch_now(), **values)
        )

    def set_current_step(self, workflow_id: str, current_step: int) -> None:
        self.session.execute(
            _SET_CURRENT_STEP, {"workflow_id": workflow_id, "current_step": current_step}
        )

    def set_metrics(self, workflow_id: str, metrics: CollaborationMetrics) -> None:
        # No row back: this runs as every execution ends, and parsing the workflow is not free.
        self.session.execute(
            update(wf)
            .where(wf.c.id == workflow_id)
            .values(collaboration_metrics=metrics.to_json_dict(), updated_at=epoch_now())
        )

    def append_execution_history(
        self, workflow_id: str, records: Iterable[ExecutionRecord]
    ) -> None:
        """Append to `execution_history` under a row lock: executions of one workflow (a
        parent and its delegated sub-tasks) may end together in different processes, and a
        read-modify-write would lose one's records."""
        current = (
            self.session.execute(
                select(wf.c.execution_history).where(wf.c.id == workflow_id).with_for_update()
            ).scalar_one()
            or []
        )
        self.session.execute(
            update(wf)
            .where(wf.c.id == workflow_id)
            .values(execution_history=[*current, *(r.to_json_dict() for r in records)])
        )

    # --- Internals ---------------------------------------------------------------------------

    def _compile(
        self,
        user_id: str,
        workflow_type: WorkflowType,
        configuration: WorkflowConfiguration,
        participating_agents: builtins.list[str],
        coordinator_agent_id: str | None,
        *,
        self_id: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> WorkflowPlan:
        """`environment`: where the MCP servers' `${VAR}` are looked up, when saving (this
        process's environment: the server, or the CLI that runs the steps itself)."""
        named = {*participating_agents, coordinator_agent_id or ""}
        named |= {s.preferred_agent_id for s in configuration.steps if s.preferred_agent_id}
        owned = AgentRepository(self.session).owned(named, user_id=user_id)
        workflow_ids = set(
            self.session.execute(select(wf.c.id).where(wf.c.user_id == user_id)).scalars()
        ) - {self_id}
        return compile_workflow(
            workflow_type=WorkflowType(workflow_type),
            configuration=configuration,
            participating_agents=list(participating_agents),
            coordinator_agent_id=coordinator_agent_id,
            owned_agents=owned,
            owned_workflow_ids=workflow_ids,
            environment=environment,
            saved_servers=McpServerRepository(self.session).names(user_id=user_id),
        )

    def _estimate(self, workflow_id: str | None, template_id: str | None, steps: int) -> int:
        """`estimatedDuration` (seconds) from past runs, or the step count before any."""
        own, from_template = ExecutionRepository(self.session).past_durations(
            workflow_id or "", template_id=template_id
        )
        return estimate_duration(own, from_template, steps)

    def _check_project(self, project_id: str | None, user_id: str) -> None:
        if project_id is None:
            return
        found = self.session.execute(
            select(projects.c.id).where(projects.c.id == project_id, projects.c.user_id == user_id)
        ).scalar_one_or_none()
        if found is None:
            raise InvalidDefinition(
                [
                    Problem(
                        "projectId",
                        f"project {project_id!r} does not exist or is not yours",
                        "create the project first, or leave projectId out",
                    )
                ]
            )

    def team(self, workflow_id: str, *, user_id: str) -> tuple[builtins.list[str], str | None]:
        """The participating agents and the template of a workflow: a narrow read, for what
        runs whenever one of its executions ends (the full row holds its whole history)."""
        row = self.session.execute(
            select(wf.c.participating_agents, wf.c.template_id).where(
                wf.c.id == workflow_id, wf.c.user_id == user_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound("workflow", workflow_id)
        return list(row.participating_agents or []), row.template_id

    def _row(self, workflow_id: str, user_id: str) -> Row[Any]:
        row = self.session.execute(
            select(wf).where(wf.c.id == workflow_id, wf.c.user_id == user_id)
        ).one_or_none()
        if row is None:
            raise NotFound("workflow", workflow_id)
        return row
