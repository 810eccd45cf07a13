"""Users and projects."""

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import Project, User
from accord.domain.errors import Conflict, NotFound
from accord.storage.repositories._convert import to_datetime
from accord.storage.tables import collaboration_workflows, epoch_now, new_id, projects, users


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def _project(row: Row[Any]) -> Project:
    return Project(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        description=row.description,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, email: str, display_name: str) -> User:
        now = epoch_now()
        row = self.session.execute(
            insert(users)
            .values(
                id=new_id(), email=email, display_name=display_name, created_at=now, updated_at=now
            )
            .returning(users)
        ).one()
        return _user(row)

    def get(self, user_id: str) -> User:
        row = self.session.execute(select(users).where(users.c.id == user_id)).one_or_none()
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    def find_by_email(self, email: str) -> User | None:
        row = self.session.execute(select(users).where(users.c.email == email)).one_or_none()
        return None if row is None else _user(row)

    def list(self) -> builtins.list[User]:
        return [
            _user(r)
            for r in self.session.execute(select(users).order_by(users.c.created_at, users.c.id))
        ]

    def rename(self, user_id: str, display_name: str) -> User:
        row = self.session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(display_name=display_name, updated_at=epoch_now())
            .returning(users)
        ).one_or_none()
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)


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


LOCAL_USER_EMAIL = "local@accord.localhost"


def ensure_local_user(session: Session) -> User:
    """Single-user local use: the first user there is, made on the first run."""
    repo = UserRepository(session)
    existing = repo.list()
    if existing:
        return existing[0]
    return repo.create(email=LOCAL_USER_EMAIL, display_name="Local user")
