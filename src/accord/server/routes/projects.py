"""Projects: named groups of a user's workflows (a workflow joins one through `projectId`)."""

from fastapi import APIRouter, status

from accord.domain.agent import Project, ProjectCreate, ProjectUpdate
from accord.domain.workflow import CollaborationWorkflow
from accord.server.deps import CurrentUser, SessionDep
from accord.server.pagination import PageDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.users import ProjectRepository
from accord.storage.repositories.workflows import WorkflowRepository

router = APIRouter(prefix="/projects", tags=["projects"], responses=ERROR_RESPONSES)


@router.get("")
def list_projects(user: CurrentUser, session: SessionDep, page: PageDep) -> list[Project]:
    """The user's projects, oldest first."""
    return page.of(ProjectRepository(session).list(user_id=user.id))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, user: CurrentUser, session: SessionDep) -> Project:
    return ProjectRepository(session).create(
        user_id=user.id, name=body.name, description=body.description
    )


@router.get("/{project_id}")
def get_project(project_id: str, user: CurrentUser, session: SessionDep) -> Project:
    return ProjectRepository(session).get(project_id, user_id=user.id)


@router.patch("/{project_id}")
def update_project(
    project_id: str, body: ProjectUpdate, user: CurrentUser, session: SessionDep
) -> Project:
    return ProjectRepository(session).update(
        project_id, user_id=user.id, name=body.name, description=body.description
    )


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project_id: str, user: CurrentUser, session: SessionDep) -> None:
    """409 `conflict` while workflows belong to it: delete them or move them out first."""
    ProjectRepository(session).delete(project_id, user_id=user.id)


@router.get("/{project_id}/workflows")
def list_project_workflows(
    project_id: str, user: CurrentUser, session: SessionDep, page: PageDep
) -> list[CollaborationWorkflow]:
    """The project's workflows, newest first."""
    ProjectRepository(session).get(project_id, user_id=user.id)
    return page.of(WorkflowRepository(session).list(user_id=user.id, project_id=project_id))
