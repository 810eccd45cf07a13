"""Workflows: definitions checked whole (the plan compiler) before anything is stored."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from accord.domain.enums import WorkflowStatus
from accord.domain.errors import InvalidDefinition
from accord.domain.workflow import (
    CollaborationWorkflow,
    CreateWorkflowRequest,
    UpdateWorkflowRequest,
)
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES, ErrorProblem, ValidationReport, WorkflowYaml
from accord.server.workflow_yaml import export_yaml, import_yaml
from accord.storage.repositories.workflows import WorkflowRepository

router = APIRouter(prefix="/workflows", tags=["workflows"], responses=ERROR_RESPONSES)


@router.get("")
def list_workflows(
    access: ReadAccess,
    session: SessionDep,
    status: Annotated[WorkflowStatus | None, Query()] = None,
    project_id: Annotated[str | None, Query(alias="projectId")] = None,
) -> list[CollaborationWorkflow]:
    """The user's workflows, newest first (only one project's with `projectId`)."""
    return WorkflowRepository(session).list(
        user_id=access.owner_id, status=status, project_id=project_id
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(
    body: CreateWorkflowRequest, access: EditAccess, session: SessionDep
) -> CollaborationWorkflow:
    """422 `invalid_definition` lists every fault (unknown dependencies, cycles, agents that
    are not yours...), each with its field and fix."""
    return WorkflowRepository(session).create(access.owner_id, body)


@router.post("/validate")
def validate_workflow(
    body: CreateWorkflowRequest, access: ReadAccess, session: SessionDep
) -> ValidationReport:
    """Check a definition without saving it."""
    try:
        WorkflowRepository(session).validate(access.owner_id, body)
    except InvalidDefinition as exc:
        problems = [ErrorProblem(**p.__dict__) for p in exc.problems]
        return ValidationReport(valid=False, problems=problems)
    return ValidationReport(valid=True)


@router.post("/import", status_code=status.HTTP_201_CREATED)
def import_workflow(
    body: WorkflowYaml, access: EditAccess, session: SessionDep
) -> CollaborationWorkflow:
    """Create a workflow from a workflow file's text (the format `accord run` takes); the
    agents it names are yours of those names, or new ones. 422 lists each problem with its
    line (`details.problems[].line`)."""
    return import_yaml(session, body.yaml, user_id=access.owner_id)


@router.get(
    "/{workflow_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_workflow(workflow_id: str, access: ReadAccess, session: SessionDep) -> Response:
    """The workflow as a workflow file (agents and providers by name), to keep in git or to
    run with `accord run`."""
    workflow = WorkflowRepository(session).get(workflow_id, user_id=access.owner_id)
    text = export_yaml(session, workflow, user_id=access.owner_id)
    filename = "".join(c if c.isalnum() or c in "-_" else "-" for c in workflow.name)[:80]
    return Response(
        text,
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{filename or "workflow"}.yaml"'},
    )


@router.get("/{workflow_id}")
def get_workflow(
    workflow_id: str, access: ReadAccess, session: SessionDep
) -> CollaborationWorkflow:
    return WorkflowRepository(session).get(workflow_id, user_id=access.owner_id)


@router.patch("/{workflow_id}")
def update_workflow(
    workflow_id: str, body: UpdateWorkflowRequest, access: EditAccess, session: SessionDep
) -> CollaborationWorkflow:
    """Only the fields sent change; the result is validated whole."""
    return WorkflowRepository(session).update(workflow_id, user_id=access.owner_id, request=body)


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_workflow(workflow_id: str, access: EditAccess, session: SessionDep) -> None:
    """Deletes its executions, interactions and knowledge with it."""
    WorkflowRepository(session).delete(workflow_id, user_id=access.owner_id)
