"""Users, projects and their members."""

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.access import Role
from accord.domain.agent import Project, ProjectMember, User
from accord.domain.errors import Conflict, NotFound
from accord.storage.passwords import hash_password, password_matches
from accord.storage.repositories._convert import affected_rows, to_datetime
from accord.storage.tables import (
    agent_interactions,
    api_tokens,
    collaboration_workflows,
    epoch_now,
    new_id,
    project_members,
    projects,
    tool_approvals,
    users,
    workflow_executions,
)


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        is_admin=bool(row.is_admin),
        disabled=row.disabled_at is not None,
        has_password=row.password_hash is not None,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def _project(row: Row[Any], role: Role = Role.OWNER) -> Project:
    return Project(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        description=row.description,
        role=role,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        email: str,
        display_name: str,
        password: str | None = None,
        is_admin: bool = False,
    ) -> User:
        """A new user; Conflict when the email is taken (emails compare case-insensitively)."""
        email = email.strip()
        if self.find_by_email(email) is not None:
            raise Conflict(f"a user with the email {email!r} already exists")
        now = epoch_now()
        row = self.session.execute(
            insert(users)
            .values(
                id=new_id(),
                email=email,
                display_name=display_name,
                password_hash=None if password is None else hash_password(password),
                is_admin=is_admin,
                created_at=now,
                updated_at=now,
            )
            .returning(users)
        ).one()
        return _user(row)

    def any_exist(self) -> bool:
        return self.session.execute(select(users.c.id).limit(1)).first() is not None

    def authenticate(self, email: str, password: str) -> User | None:
        """The enabled user with this email and password, else None (the same answer, and
        about the same time, for an unknown email, a wrong password and a disabled user)."""
        row = self.session.execute(
            select(users).where(func.lower(users.c.email) == email.strip().lower())
        ).one_or_none()
        matched = password_matches(None if row is None else row.password_hash, password)
        if row is None or not matched or row.disabled_at is not None:
            return None
        return _user(row)

    def set_password(self, user_id: str, password: str) -> User:
        """A new password; the user's sessions end (their API tokens stay)."""
        user = self._update(user_id, password_hash=hash_password(password))
        self.session.execute(
            delete(api_tokens).where(
                api_tokens.c.user_id == user_id, api_tokens.c.kind.in_(("session", "login"))
            )
        )
        return user

    def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disabling refuses every token and session of the user at once (and ends their
        open event streams); enabling lets their remaining tokens work again."""
        if disabled:
            self._refuse_last_admin(user_id)
        return self._update(user_id, disabled_at=epoch_now() if disabled else None)

    def set_admin(self, user_id: str, is_admin: bool) -> User:
        if not is_admin:
            self._refuse_last_admin(user_id)
        return self._update(user_id, is_admin=is_admin)

    def _refuse_last_admin(self, user_id: str) -> None:
        admins = self.session.execute(
            select(users.c.id).where(users.c.is_admin.is_(True), users.c.disabled_at.is_(None))
        ).scalars()
        if list(admins) == [user_id]:
            raise Conflict(
                "this is the last enabled administrator; make another user an administrator "
                "first, or nobody could manage users"
            )

    def _update(self, user_id: str, **values: Any) -> User:
        row = self.session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(**values, updated_at=epoch_now())
            .returning(users)
        ).one_or_none()
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    def get(self, user_id: str) -> User:
        row = self.session.execute(select(users).where(users.c.id == user_id)).one_or_none()
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    def find_by_email(self, email: str) -> User | None:
        row = self.session.execute(
            select(users).where(func.lower(users.c.email) == email.strip().lower())
        ).one_or_none()
        return None if row is None else _user(row)

    def find(self, wanted: str) -> User:
        """A user by ID or email (how an administrator names one on the command line)."""
        row = self.session.execute(
            select(users).where(
                (users.c.id == wanted) | (func.lower(users.c.email) == wanted.strip().lower())
            )
        ).first()
        if row is None:
            raise NotFound("user", wanted)
        return _user(row)

    def list(self) -> builtins.list[User]:
        return [
            _user(r)
            # In the order they were made; by email among those made within the same
            # timestamp (a random ID would list them differently each time).
            for r in self.session.execute(select(users).order_by(users.c.created_at, users.c.email))
        ]

    def rename(self, user_id: str, display_name: str) -> User:
        return self._update(user_id, display_name=display_name)


class ProjectRepository:
    """A user's projects: named groups of workflows (`collaboration_workflows.project_id`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, user_id: str, name: str, description: str = "") -> Project:
        name = name.strip()
        now = epoch_now()
        row = self.session.execute(
            insert(projects)
            .values(
                id=new_id(),
                user_id=user_id,
                name=name,
                description=description,
                created_at=now,
                updated_at=now,
            )
            .returning(projects)
        ).one()
        return _project(row)

    def get(self, project_id: str, *, user_id: str) -> Project:
        row = self.session.execute(
            select(projects).where(projects.c.id == project_id, projects.c.user_id == user_id)
        ).one_or_none()
        if row is None:
            raise NotFound("project", project_id)
        return _project(row)

    def list(self, *, user_id: str) -> builtins.list[Project]:
        rows = self.session.execute(
            select(projects).where(projects.c.user_id == user_id).order_by(projects.c.created_at)
        )
        return [_project(r) for r in rows]

    def list_shared(self, *, user_id: str) -> builtins.list[Project]:
        """Other users' projects this user is a member of, with the user's role in each."""
        rows = self.session.execute(
            select(projects, project_members.c.role)
            .join(project_members, project_members.c.project_id == projects.c.id)
            .where(project_members.c.user_id == user_id, projects.c.user_id != user_id)
            .order_by(projects.c.created_at)
        )
        return [_project(r, Role(r.role)) for r in rows]

    def owner_and_project_of(
        self,
        *,
        workflow_id: str | None = None,
        execution_id: str | None = None,
        approval_id: str | None = None,
        interaction_id: str | None = None,
    ) -> tuple[str, str | None] | None:
        """The owner and project of a workflow, or of the workflow of an execution, an
        approval or an interaction; None when it does not exist."""
        if approval_id is not None:
            execution_id = self.session.execute(
                select(tool_approvals.c.execution_id).where(tool_approvals.c.id == approval_id)
            ).scalar_one_or_none()
        elif interaction_id is not None:
            execution_id = self.session.execute(
                select(agent_interactions.c.workflow_execution_id).where(
                    agent_interactions.c.id == interaction_id
                )
            ).scalar_one_or_none()
        if execution_id is not None and workflow_id is None:
            workflow_id = self.session.execute(
                select(workflow_executions.c.workflow_id).where(
                    workflow_executions.c.id == execution_id
                )
            ).scalar_one_or_none()
        if workflow_id is None:
            return None
        row = self.session.execute(
            select(collaboration_workflows.c.user_id, collaboration_workflows.c.project_id).where(
                collaboration_workflows.c.id == workflow_id
            )
        ).one_or_none()
        return None if row is None else (row.user_id, row.project_id)

    def owner_and_role(self, project_id: str, *, user_id: str) -> tuple[str, Role] | None:
        """Who owns the project and the user's role in it; None when the project does not
        exist or the user is neither its owner nor a member."""
        row = self.session.execute(
            select(projects.c.user_id, project_members.c.role)
            .outerjoin(
                project_members,
                (project_members.c.project_id == projects.c.id)
                & (project_members.c.user_id == user_id),
            )
            .where(projects.c.id == project_id)
        ).one_or_none()
        if row is None:
            return None
        if row.user_id == user_id:
            return row.user_id, Role.OWNER
        return None if row.role is None else (row.user_id, Role(row.role))

    def update(
        self,
        project_id: str,
        *,
        user_id: str,
        name: str | None = None,
        description: str | None = None,
    ) -> Project:
        self.get(project_id, user_id=user_id)
        values: dict[str, Any] = {"updated_at": epoch_now()}
        if name is not None:
            values["name"] = name.strip()
        if description is not None:
            values["description"] = description
        row = self.session.execute(
            update(projects).where(projects.c.id == project_id).values(**values).returning(projects)
        ).one()
        return _project(row)

    def delete(self, project_id: str, *, user_id: str) -> None:
        """Refused (Conflict) while workflows belong to it: deleting a project must not take
        its workflows, their runs and their knowledge with it, nor leave them orphaned."""
        self.get(project_id, user_id=user_id)
        names = list(
            self.session.execute(
                select(collaboration_workflows.c.name)
                .where(collaboration_workflows.c.project_id == project_id)
                .order_by(collaboration_workflows.c.name)
            ).scalars()
        )
        if names:
            shown = ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")
            raise Conflict(
                f"project {project_id!r} still holds {len(names)} workflow(s): {shown}; "
                "delete them or move them out of it (PATCH /workflows/{id} with "
                '"projectId": null) first',
                details={"workflows": len(names)},
            )
        self.session.execute(delete(projects).where(projects.c.id == project_id))


class ProjectMemberRepository:
    """Who else may see or work on a project, and as what. The project's owner
    (`projects.user_id`) is its owner without a row here."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, project_id: str) -> builtins.list[ProjectMember]:
        rows = self.session.execute(
            select(project_members, users.c.email, users.c.display_name)
            .join(users, users.c.id == project_members.c.user_id)
            .where(project_members.c.project_id == project_id)
            .order_by(project_members.c.created_at, users.c.email)
        )
        return [
            ProjectMember(
                user_id=r.user_id,
                email=r.email,
                display_name=r.display_name,
                role=Role(r.role),
                created_at=to_datetime(r.created_at),
            )
            for r in rows
        ]

    def put(self, project_id: str, *, user_id: str, role: Role) -> ProjectMember:
        """Add the user with `role`, or change their role."""
        owner = self.session.execute(
            select(projects.c.user_id).where(projects.c.id == project_id)
        ).scalar_one()
        if owner == user_id:
            raise Conflict("the project's creator is always its owner; their role cannot change")
        UserRepository(self.session).get(user_id)
        self.session.execute(
            delete(project_members).where(
                project_members.c.project_id == project_id, project_members.c.user_id == user_id
            )
        )
        self.session.execute(
            insert(project_members).values(
                project_id=project_id, user_id=user_id, role=role.value, created_at=epoch_now()
            )
        )
        return next(m for m in self.list(project_id) if m.user_id == user_id)

    def still_members(self, pairs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (project ID, user ID) memberships still exist: one query for every
        open event stream watched through a shared project."""
        if not pairs:
            return set()
        project_ids = {p for p, _ in pairs}
        rows = self.session.execute(
            select(project_members.c.project_id, project_members.c.user_id).where(
                project_members.c.project_id.in_(project_ids)
            )
        )
        return {(r.project_id, r.user_id) for r in rows} & set(pairs)

    def remove(self, project_id: str, *, user_id: str) -> None:
        result = self.session.execute(
            delete(project_members).where(
                project_members.c.project_id == project_id, project_members.c.user_id == user_id
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("project member", user_id)


LOCAL_USER_EMAIL = "local@accord.localhost"


def ensure_local_user(session: Session) -> User:
    """Single-user local use: the first user there is, made on the first run as the
    administrator (nobody else could manage users on a fresh install)."""
    repo = UserRepository(session)
    existing = repo.list()
    if existing:
        return existing[0]
    return repo.create(email=LOCAL_USER_EMAIL, display_name="Local user", is_admin=True)
