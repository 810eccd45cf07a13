"""Who may do what: the permissions routes declare, and what roles and token scopes grant.

Every API route declares the one permission it needs (`accord.server.access`). A request
is allowed when both grant it:

- the caller's **role** on the data: `owner` of their own data and of projects they own;
  `editor` or `viewer` in projects they are members of (a viewer watches, and cannot start,
  change or approve anything);
- the **scope** of the credential: an API token made with scope `read` only reads, `run`
  also starts and controls executions and answers and approves, `admin` may do everything
  its user may. Browser sessions have scope `admin`.

`administer` (managing the server's users) is granted only to administrators, through a
credential of scope `admin`.
"""

from enum import StrEnum


class Permission(StrEnum):
    """What a route does, from least to most powerful."""

    READ = "read"
    """Watch: see definitions, executions, their events, reports and files."""
    RUN = "run"
    """Act on executions: start, pause, resume, cancel, run again, answer, approve."""
    EDIT = "edit"
    """Change definitions: workflows, agents, providers, triggers, templates, projects."""
    MANAGE = "manage"
    """Own: a project's members and its deletion; one's own API tokens and sessions."""
    ADMINISTER = "administer"
    """The server's users (administrators only)."""


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class Scope(StrEnum):
    READ = "read"
    RUN = "run"
    ADMIN = "admin"


ROLE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.EDITOR: frozenset({Permission.READ, Permission.RUN, Permission.EDIT}),
    Role.OWNER: frozenset({Permission.READ, Permission.RUN, Permission.EDIT, Permission.MANAGE}),
}

SCOPE_GRANTS: dict[Scope, frozenset[Permission]] = {
    Scope.READ: frozenset({Permission.READ}),
    Scope.RUN: frozenset({Permission.READ, Permission.RUN}),
    Scope.ADMIN: frozenset(Permission),
}


def allows(*, role: Role, scope: Scope, is_admin: bool, permission: Permission) -> bool:
    """Whether a caller with this role on the data, credential scope and administrator flag
    may do what `permission` names."""
    if permission not in SCOPE_GRANTS[scope]:
        return False
    if permission is Permission.ADMINISTER:
        return is_admin
    return permission in ROLE_GRANTS[role]
