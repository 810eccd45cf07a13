"""Every API route against every role and token scope, generated from `/openapi.json`.

Each operation declares its permission (`x-permission`); this walks the document and, for
each operation, calls it as a project's viewer, editor and owner, as a stranger, with the
owner's tokens of each scope, and as an administrator and a plain user, on fresh data, and
asserts that what is refused is exactly what the permission's rules refuse. The rules are
written out here, as a user reads them in the docs, not imported from the code under test.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from accord.domain.access import Role, Scope
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import (
    ProjectMemberRepository,
    ProjectRepository,
    UserRepository,
)
from accord.storage.tables import (
    agent_interactions,
    collaboration_workflows,
    new_id,
    tool_approvals,
    workflow_executions,
)
from server.conftest import LiveServer

# What each role may do in a project, and each token scope anywhere (docs/security.md).
ROLE_ALLOWS = {
    "viewer": {"read"},
    "editor": {"read", "run", "edit"},
    "owner": {"read", "run", "edit", "manage"},
}
SCOPE_ALLOWS = {
    "read": {"read"},
    "run": {"read", "run"},
    "admin": {"read", "run", "edit", "manage", "administer"},
}
SHARED_PARAMETERS = {"project_id", "workflow_id", "execution_id", "approval_id", "interaction_id"}
PERMISSIONS = {"read", "run", "edit", "manage", "administer", "public"}


@dataclass
class Caller:
    user_id: str
    token: str


@dataclass
class Team:
    owner: Caller
    editor: Caller
    viewer: Caller
    stranger: Caller
    admin: Caller
    owner_scoped: dict[str, Caller]


def _user(s: Any, name: str, *, admin: bool = False) -> Caller:
    user = UserRepository(s).create(
        email=f"{name}-{uuid.uuid4().hex[:8]}@example.test", display_name=name, is_admin=admin
    )
    _, secret = TokenRepository(s).create(user_id=user.id, name="tests")
    return Caller(user.id, secret)


def _team(server: LiveServer) -> Team:
    with server.db.session() as s:
        owner = _user(s, "owner")
        scoped = {}
        for scope in Scope:
            _, secret = TokenRepository(s).create(user_id=owner.user_id, name=scope, scope=scope)
            scoped[scope.value] = Caller(owner.user_id, secret)
        return Team(
            owner=owner,
            editor=_user(s, "editor"),
            viewer=_user(s, "viewer"),
            stranger=_user(s, "stranger"),
            admin=_user(s, "admin", admin=True),
            owner_scoped=scoped,
        )


def _shared_data(server: LiveServer, team: Team) -> dict[str, str]:
    """A fresh project of the owner's, shared with the editor and the viewer, holding a
    workflow with an execution, a pending approval and a question."""
    ids = {"workflow_id": new_id(), "execution_id": new_id()}
    with server.db.session() as s:
        project = ProjectRepository(s).create(user_id=team.owner.user_id, name="shared")
        members = ProjectMemberRepository(s)
        members.put(project.id, user_id=team.editor.user_id, role=Role.EDITOR)
        members.put(project.id, user_id=team.viewer.user_id, role=Role.VIEWER)
        agent = AgentRepository(s).create(
            user_id=team.owner.user_id, name=f"ada-{new_id()[:6]}", role="developer"
        )
        s.execute(
            insert(collaboration_workflows).values(
                id=ids["workflow_id"],
                user_id=team.owner.user_id,
                project_id=project.id,
                name=f"wf-{new_id()[:6]}",
                description="",
                configuration={"steps": [{"id": "a", "name": "A"}]},
                participating_agents=[agent.id],
            )
        )
        s.execute(
            insert(workflow_executions).values(
                id=ids["execution_id"],
                workflow_id=ids["workflow_id"],
                execution_number=1,
                trigger_reason="manual",
                user_id=team.owner.user_id,
            )
        )
        approval_id, interaction_id = new_id(), new_id()
        s.execute(
            insert(tool_approvals).values(
                id=approval_id,
                execution_id=ids["execution_id"],
                user_id=team.owner.user_id,
                step_id="a",
                attempt=1,
                request_key=new_id(),
                server="files",
                tool="write_file",
                status="pending",
                created_at=0.0,
            )
        )
        s.execute(
            insert(agent_interactions).values(
                id=interaction_id,
                workflow_execution_id=ids["execution_id"],
                from_agent_id=agent.id,
                interaction_type="question",
                message="which colour?",
                requires_response=True,
            )
        )
    return ids | {
        "project_id": project.id,
        "approval_id": approval_id,
        "interaction_id": interaction_id,
    }


def _operations(server: LiveServer) -> list[tuple[str, str, str]]:
    schema = httpx.get(f"{server.base_url}/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            permission = operation.get("x-permission")
            assert permission in PERMISSIONS, f"{method.upper()} {path} declares {permission!r}"
            found.append((method.upper(), path, permission))
    return found


def _call(client: httpx.Client, caller: Caller, method: str, path: str, ids: dict[str, str]) -> int:
    url = path
    for name in _parameters(path):
        url = url.replace("{" + name + "}", ids.get(name, "not-" + name))
    headers = {"Authorization": f"Bearer {caller.token}"}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    with client.stream(method, url, headers=headers, json=body) as response:
        return response.status_code  # an event stream stays open: its status is enough


def _parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _outcome(status: int) -> str:
    assert status != 401, "every caller here is signed in"
    return "refused" if status == 403 else "allowed"


@pytest.fixture(scope="module")
def team(any_live_server: LiveServer) -> Team:
    return _team(any_live_server)


def test_every_route_declares_a_permission_and_every_role_gets_exactly_it(
    any_live_server: LiveServer, team: Team
) -> None:
    live_server = any_live_server
    client = httpx.Client(base_url=live_server.base_url, timeout=20)
    operations = _operations(live_server)
    assert len(operations) > 80
    mismatches = []
    for method, path, permission in operations:
        if permission == "public":
            continue
        ids = _shared_data(live_server, team)
        shared = bool(SHARED_PARAMETERS & set(_parameters(path)))
        # Least powerful first: a refused call changes nothing; an allowed one may delete.
        cases: list[tuple[str, Caller, str]] = [
            ("stranger", team.stranger, "refused" if permission == "administer" else "allowed"),
        ]
        if shared:
            cases += [
                (role, getattr(team, role), "allowed" if permission in allowed else "refused")
                for role, allowed in ROLE_ALLOWS.items()
            ]
        cases += [
            (
                f"owner's {scope} token",
                caller,
                "allowed"
                if permission in SCOPE_ALLOWS[scope] and permission != "administer"
                else "refused",
            )
            for scope, caller in team.owner_scoped.items()
        ]
        cases.append(("administrator", team.admin, "allowed"))
        for who, caller, expected in cases:
            status = _call(client, caller, method, path, ids)
            got = _outcome(status)
            if who == "stranger" and shared and expected == "allowed":
                # Another user's project is not theirs: never forbidden (that would say it
                # exists) and never done; not found, or refused earlier for the body sent
                # (422) or because this server runs no engine (503).
                got = "allowed" if status in (404, 422, 503) else f"status {status}"
            if got != expected:
                mismatches.append(f"{method} {path} [{permission}] as {who}: {status}")
    client.close()
    assert mismatches == [], "\n".join(mismatches)
