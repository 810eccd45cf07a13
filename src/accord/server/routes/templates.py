"""Templates: the system ones (read-only, for everyone) and the user's own; workflows are
made from them by casting the user's agents in the template's roles."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from accord.domain.enums import TemplateCategory
from accord.domain.template import (
    CreateFromTemplateRequest,
    CreateTemplateRequest,
    WorkflowTemplate,
)
from accord.domain.workflow import CollaborationWorkflow
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.pagination import PageDep
from accord.server.schemas import ERROR_RESPONSES, SaveAsTemplate, TemplateUpdate
from accord.storage.repositories.templates import TemplateRepository
from accord.team import create_workflow_from_template, save_workflow_as_template

router = APIRouter(tags=["templates"], responses=ERROR_RESPONSES)


@router.get("/templates")
def list_templates(
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    category: Annotated[TemplateCategory | None, Query()] = None,
) -> list[WorkflowTemplate]:
    """System templates and the user's own, most used first."""
    return page.of(TemplateRepository(session).list(user_id=access.owner_id, category=category))


@router.post("/templates", status_code=status.HTTP_201_CREATED)
def create_template(
    body: CreateTemplateRequest, access: EditAccess, session: SessionDep
) -> WorkflowTemplate:
    return TemplateRepository(session).create(body, user_id=access.owner_id)


@router.get("/templates/{template_id}")
def get_template(template_id: str, access: ReadAccess, session: SessionDep) -> WorkflowTemplate:
    return TemplateRepository(session).get(template_id, user_id=access.owner_id)


@router.patch("/templates/{template_id}")
def update_template(
    template_id: str, body: TemplateUpdate, access: EditAccess, session: SessionDep
) -> WorkflowTemplate:
    """One of the user's templates (a system template is a 409: save a copy instead)."""
    repo = TemplateRepository(session)
    current = repo.get(template_id, user_id=access.owner_id)
    merged = CreateTemplateRequest(
        name=current.name if body.name is None else body.name,
        description=current.description if body.description is None else body.description,
        category=current.category if body.category is None else body.category,
        workflow_type=current.workflow_type if body.workflow_type is None else body.workflow_type,
        template_definition=current.template_definition
        if body.template_definition is None
        else body.template_definition,
        required_agent_roles=current.required_agent_roles
        if body.required_agent_roles is None
        else body.required_agent_roles,
        recommended_agent_count=current.recommended_agent_count
        if body.recommended_agent_count is None
        else body.recommended_agent_count,
    )
    return repo.update(template_id, user_id=access.owner_id, request=merged)


@router.delete("/templates/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_template(template_id: str, access: EditAccess, session: SessionDep) -> None:
    TemplateRepository(session).delete(template_id, user_id=access.owner_id)


@router.post("/templates/{template_id}/workflows", status_code=status.HTTP_201_CREATED)
def create_workflow_from(
    template_id: str, body: CreateFromTemplateRequest, access: EditAccess, session: SessionDep
) -> CollaborationWorkflow:
    """A workflow of the user's agents, each required role played by a participant."""
    return create_workflow_from_template(
        session, user_id=access.owner_id, template_id=template_id, request=body
    )


@router.post("/workflows/{workflow_id}/template", status_code=status.HTTP_201_CREATED)
def save_as_template(
    workflow_id: str, body: SaveAsTemplate, access: EditAccess, session: SessionDep
) -> WorkflowTemplate:
    """The user's own template from one of their workflows: its agents become roles."""
    return save_workflow_as_template(
        session,
        user_id=access.owner_id,
        workflow_id=workflow_id,
        category=body.category,
        name=body.name,
        description=body.description,
    )
