"""Who wrote which workspace file: the step, attempt and agent of the last write made
through the `workspace` toolkit (files written any other way have no row)."""

import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from accord.storage.repositories._convert import affected_rows
from accord.storage.tables import agents, workspace_files


@dataclass(frozen=True)
class FileProvenance:
    path: str
    size: int
    step_id: str | None
    attempt: int | None
    agent_id: str | None
    agent_name: str | None
    updated_at: float


class WorkspaceFileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_write(
        self,
        *,
        execution_id: str,
        path: str,
        size: int,
        step_id: str | None,
        attempt: int | None,
        agent_id: str | None,
    ) -> None:
        """The file's latest writer (a rewrite replaces the previous author)."""
        values = {
            "size": size,
            "step_id": step_id,
            "attempt": attempt,
            "agent_id": agent_id,
            "updated_at": time.time(),
        }
        changed = affected_rows(
            self.session.execute(
                update(workspace_files)
                .where(
                    workspace_files.c.execution_id == execution_id, workspace_files.c.path == path
                )
                .values(**values)
            )
        )
        if not changed:
            self.session.execute(
                insert(workspace_files).values(execution_id=execution_id, path=path, **values)
            )

    def list(self, execution_id: str) -> list[FileProvenance]:
        rows = self.session.execute(
            select(workspace_files, agents.c.name.label("agent_name"))
            .select_from(
                workspace_files.outerjoin(agents, agents.c.id == workspace_files.c.agent_id)
            )
            .where(workspace_files.c.execution_id == execution_id)
            .order_by(workspace_files.c.path)
        )
        return [
            FileProvenance(
                path=r.path,
                size=r.size,
                step_id=r.step_id,
                attempt=r.attempt,
                agent_id=r.agent_id,
                agent_name=r.agent_name,
                updated_at=r.updated_at,
            )
            for r in rows
        ]
