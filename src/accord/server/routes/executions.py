"""Executions: start, show with step attempts, pause, resume, cancel, run again, retry, and what
happened inside them (interactions). Transitions the current state does not allow are 409s
carrying `details.current`."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from accord.domain.enums import InteractionType
from accord.domain.execution import WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.server.deps import CurrentUser, EngineDep, SessionDep
from accord.server.schemas import ERROR_RESPONSES, ExecutionDetail, ExecutionStart
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workflows import WorkflowRepository

router = APIRouter(tags=["executions"], responses=ERROR_RESPONSES)


@router.post("/workflows/{workflow_id}/executions", status_code=status.HTTP_201_CREATED)
async def start_execution(
    workflow_id: str, user: CurrentUser, engine: EngineDep, body: ExecutionStart | None = None
) -> WorkflowExecution:
    """Start the workflow now; watch it at `/executions/{id}/events`."""
    body = body or ExecutionStart()
    return await engine.start_execution(
        workflow_id, user.id, body.trigger_reason, inputs=body.inputs, workspace=body.workspace
    )


@router.get("/workflows/{workflow_id}/executions")
def list_executions(
    workflow_id: str, user: CurrentUser, session: SessionDep
) -> list[WorkflowExecution]:
    """The workflow's executions, newest first."""
    WorkflowRepository(session).get(workflow_id, user_id=user.id)
    return ExecutionRepository(session).list_for_workflow(workflow_id, user_id=user.id)


@router.get("/executions/{execution_id}")
def get_execution(execution_id: str, user: CurrentUser, session: SessionDep) -> ExecutionDetail:
    execution = ExecutionRepository(session).get(execution_id, user_id=user.id)
    runs = StepRunRepository(session).list(execution_id)
    return ExecutionDetail(**dict(execution), step_runs=runs)


@router.post("/executions/{execution_id}/pause")
async def pause_execution(
    execution_id: str, user: CurrentUser, engine: EngineDep
) -> WorkflowExecution:
    """Running attempts finish; nothing new starts until it is resumed."""
    return await engine.pause(execution_id, user.id)


@router.post("/executions/{execution_id}/resume")
async def resume_execution(
    execution_id: str, user: CurrentUser, engine: EngineDep
) -> WorkflowExecution:
    return await engine.resume(execution_id, user.id)


@router.post("/executions/{execution_id}/cancel")
async def cancel_execution(
    execution_id: str, user: CurrentUser, engine: EngineDep
) -> WorkflowExecution:
    return await engine.cancel(execution_id, user.id)


@router.post("/executions/{execution_id}/rerun", status_code=status.HTTP_201_CREATED)
async def rerun_execution(
    execution_id: str, user: CurrentUser, engine: EngineDep
) -> WorkflowExecution:
    """Run again: a new execution of the same workflow with the next number."""
    return await engine.rerun(execution_id, user.id)


@router.post("/executions/{execution_id}/retry", status_code=status.HTTP_201_CREATED)
async def retry_execution(
    execution_id: str, user: CurrentUser, engine: EngineDep
) -> WorkflowExecution:
    """Retry a failed or cancelled execution from where it stopped: a new execution, in the
    same workspace with the same inputs, that keeps the results of the steps that completed
    (unless their definition changed since) and runs the rest. 409 for any other status."""
    return await engine.retry(execution_id, user.id)


@router.get("/executions/{execution_id}/interactions")
def list_interactions(
    execution_id: str,
    user: CurrentUser,
    session: SessionDep,
    type: Annotated[InteractionType | None, Query()] = None,
    agent_id: Annotated[str | None, Query(alias="agentId")] = None,
    step_id: Annotated[str | None, Query(alias="stepId")] = None,
) -> list[AgentInteraction]:
    """Oldest first; `agentId` matches the sender or the receiver."""
    ExecutionRepository(session).get(execution_id, user_id=user.id)
    return InteractionRepository(session).list(
        execution_id, interaction_type=type, agent_id=agent_id, step_id=step_id
    )
