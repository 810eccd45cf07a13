"""The one place that decides whether a request may do what its route does.

Each API route declares the permission it needs by the type of one parameter:

    def cancel_execution(execution_id: str, access: RunAccess, ...) -> ...

`Need(permission)` authenticates the caller (`accord.server.deps.get_caller`), finds whose
data the route touches from its path (a project, workflow, execution, approval or
interaction: a shared project's members act on its owner's data), takes the caller's role
there, and refuses with 403 what the role or the credential's scope does not grant
(`accord.domain.access`). The route then reads and writes as `access.owner_id`.

`declare_permissions` writes each route's permission into the OpenAPI document
(`x-permission`) and refuses to build an app with an API route that declares none, so a
new route cannot forget its check; the role tests walk that document.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from accord.domain.access import Permission, Role, Scope, allows
from accord.domain.agent import User
from accord.domain.errors import Forbidden
from accord.server.deps import Caller, DatabaseDep, get_caller
from accord.storage.repositories.users import ProjectRepository

PUBLIC = "public"
"""The `x-permission` of routes that authenticate by other means (a hook's signature, a
password, the setup token)."""
PERMISSION_KEY = "x-permission"


@dataclass(frozen=True)
class Access:
    """A request allowed to do what its route does."""

    user: User
    """Who is asking."""
    owner_id: str
    """Whose data the request acts on: the caller's own, or a shared project's owner's."""
    role: Role
    scope: Scope
    token_id: str
    """The credential's ID (an event stream ends when it is revoked)."""
    shared_project_id: str | None = None
    """The project, shared with the caller, through which they reach another's data (an
    event stream ends when they leave it)."""


@dataclass(frozen=True)
class _Place:
    owner_id: str
    role: Role
    shared_project_id: str | None = None


def _role_on_path(session: Session, user_id: str, params: dict[str, Any]) -> _Place:
    """Whose data the path names, the caller's role there, and the project shared with them
    that lets them in. The caller's own data, and anything they may not see (so that the
    route answers 404, not 403), is theirs as owner."""
    projects = ProjectRepository(session)
    mine = _Place(user_id, Role.OWNER)
    if "project_id" in params:
        project_id = params["project_id"]
    else:
        owner_project = projects.owner_and_project_of(
            workflow_id=params.get("workflow_id"),
            execution_id=params.get("execution_id"),
            approval_id=params.get("approval_id"),
            interaction_id=params.get("interaction_id"),
        )
        if owner_project is None or owner_project[0] == user_id or owner_project[1] is None:
            return mine
        project_id = owner_project[1]
    found = projects.owner_and_role(project_id, user_id=user_id)
    if found is None or found[0] == user_id:
        return mine
    return _Place(found[0], found[1], project_id)


_REFUSALS: dict[Permission, str] = {
    Permission.READ: "see this",
    Permission.RUN: "start, control, answer or approve",
    Permission.EDIT: "change definitions",
    Permission.MANAGE: "manage members, tokens or sessions, or delete a project",
    Permission.ADMINISTER: "manage the server's users",
}


class Need:
    """The dependency a route declares: the caller may do `permission` here."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self, request: Request, caller: Annotated[Caller, Depends(get_caller)], db: DatabaseDep
    ) -> Access:
        user = caller.user
        with db.read_session() as session:
            place = _role_on_path(session, user.id, request.path_params)
        role = place.role
        scope = caller.credential.token.scope
        if not allows(role=role, scope=scope, is_admin=user.is_admin, permission=self.permission):
            raise Forbidden(self._refusal(role=role, scope=scope, is_admin=user.is_admin))
        return Access(
            user=user,
            owner_id=place.owner_id,
            shared_project_id=place.shared_project_id,
            role=role,
            scope=scope,
            token_id=caller.credential.token.id,
        )

    def _refusal(self, *, role: Role, scope: Scope, is_admin: bool) -> str:
        what = _REFUSALS[self.permission]
        if self.permission is Permission.ADMINISTER and not is_admin:
            return f"only administrators may {what}; ask one (`accord users list` shows them)"
        if not allows(role=role, scope=Scope.ADMIN, is_admin=is_admin, permission=self.permission):
            return (
                f"your role in this project is {role.value}, which may not {what}; "
                "ask one of its owners for a higher role"
            )
        return (
            f"this token's scope is {scope.value}, which may not {what}; "
            "use a token with a wider scope (scopes: read, run, admin)"
        )


ReadAccess = Annotated[Access, Depends(Need(Permission.READ))]
RunAccess = Annotated[Access, Depends(Need(Permission.RUN))]
EditAccess = Annotated[Access, Depends(Need(Permission.EDIT))]
ManageAccess = Annotated[Access, Depends(Need(Permission.MANAGE))]
AdminAccess = Annotated[Access, Depends(Need(Permission.ADMINISTER))]


def _needs(dependant: Dependant) -> list[Permission]:
    found = [dependant.call.permission] if isinstance(dependant.call, Need) else []
    for sub in dependant.dependencies:
        found.extend(_needs(sub))
    return found


def declare_permissions(router: APIRouter) -> None:
    """Put each route's permission in the OpenAPI document; refuse a route that declares
    none or several (public routes say `x-permission: public`). Called on each API router
    before it is included."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        needs = set(_needs(route.dependant))
        declared = (route.openapi_extra or {}).get(PERMISSION_KEY)
        if declared == PUBLIC and not needs:
            continue
        if len(needs) != 1:
            raise RuntimeError(
                f"{sorted(route.methods or ())} {route.path} must declare exactly one permission "
                f"(a ReadAccess, RunAccess... parameter), found {sorted(needs)}"
            )
        route.openapi_extra = {**(route.openapi_extra or {}), PERMISSION_KEY: needs.pop().value}
