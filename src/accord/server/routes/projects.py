"""Projects: named groups of a user's workflows (a workflow joins one through `projectId`),
shared with members: an `editor` works on its workflows and runs them, a `viewer` watches."""

from fastapi import APIRouter, status

from accord.domain.access import Role
from accord.domain.agent import (
    Project,
    ProjectCreate,
    ProjectMember,
    ProjectMemberPut,
    ProjectUpdate,
)
from accord.domain.workflow import CollaborationWorkflow
from accord.server.access import EditAccess, ManageAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.users import (
    ProjectMemberRepository,
    ProjectRepository,
    UserRepository,
)
from accord.storage.repositories.workflows import WorkflowRepository

router = APIRouter(prefix="/projects", tags=["projects"], responses=ERROR_RESPONSES)


@router.get("")
def list_projects(access: ReadAccess, session: SessionDep) -> list[Project]:
    """The user's projects, then those shared with them (each with the caller's `role`),
    oldest first."""
    projects = ProjectRepository(session)
    return projects.list(user_id=access.owner_id) + projects.list_shared(user_id=access.owner_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, access: EditAccess, session: SessionDep) -> Project:
    return ProjectRepository(session).create(
        user_id=access.owner_id, name=body.name, description=body.description
    )


@router.get("/{project_id}")
def get_project(project_id: str, access: ReadAccess, session: SessionDep) -> Project:
    project = ProjectRepository(session).get(project_id, user_id=access.owner_id)
    return project.model_copy(update={"role": access.role})


@router.patch("/{project_id}")
def update_project(
    project_id: str, body: ProjectUpdate, access: EditAccess, session: SessionDep
) -> Project:
    project = ProjectRepository(session).update(
        project_id, user_id=access.owner_id, name=body.name, description=body.description
    )
    return project.model_copy(update={"role": access.role})


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project_id: str, access: ManageAccess, session: SessionDep) -> None:
    """409 `conflict` while workflows belong to it: delete them or move them out first."""
    ProjectRepository(session).delete(project_id, user_id=access.owner_id)


@router.get("/{project_id}/workflows")
def list_project_workflows(
    project_id: str, access: ReadAccess, session: SessionDep
) -> list[CollaborationWorkflow]:
    """The project's workflows, newest first."""
    ProjectRepository(session).get(project_id, user_id=access.owner_id)
    return WorkflowRepository(session).list(user_id=access.owner_id, project_id=project_id)


@router.get("/{project_id}/members")
def list_members(project_id: str, access: ReadAccess, session: SessionDep) -> list[ProjectMember]:
    """Who may see the project: its owner (who created it) first, then its members."""
    project = ProjectRepository(session).get(project_id, user_id=access.owner_id)
    owner = UserRepository(session).get(project.user_id)
    creator = ProjectMember(
        user_id=owner.id,
        email=owner.email,
        display_name=owner.display_name,
        role=Role.OWNER,
        created_at=project.created_at,
    )
    return [creator, *ProjectMemberRepository(session).list(project_id)]


@router.put("/{project_id}/members/{member_id}")
def put_member(
    project_id: str,
    member_id: str,
    body: ProjectMemberPut,
    access: ManageAccess,
    session: SessionDep,
) -> ProjectMember:
    """Add a user (by ID or email) with a role, or change their role."""
    ProjectRepository(session).get(project_id, user_id=access.owner_id)
    user = UserRepository(session).find(member_id)
    return ProjectMemberRepository(session).put(project_id, user_id=user.id, role=body.role)


@router.delete("/{project_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(
    project_id: str, member_id: str, access: ManageAccess, session: SessionDep
) -> None:
    """The user (by ID or email) no longer sees the project; their open event streams of
    it end within a second."""
    ProjectRepository(session).get(project_id, user_id=access.owner_id)
    user = UserRepository(session).find(member_id)
    ProjectMemberRepository(session).remove(project_id, user_id=user.id)
