"""Tool calls waiting for a user's approval, and the decisions on them.

The table is the truth a waiting attempt reads: a decision is written here first (then the
attempt is woken, see `accord.engine.approvals`), so one made while no process ran the
attempt is found when it resumes. A decision moves a row out of `pending` once; a second
one, or one on a row that expired, is an illegal transition.
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import time
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.approval import TimeoutOutcome, ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.domain.errors import IllegalTransition, NotFound
from accord.storage.repositories._convert import affected_rows, to_datetime, to_optional_datetime
from accord.storage.tables import new_id, tool_approvals

ta = tool_approvals


def _approval(row: Row[Any]) -> ToolApproval:
    return ToolApproval(
        id=row.id,
        execution_id=row.execution_id,
        step_id=row.step_id,
        attempt=row.attempt,
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        server=row.server,
        tool=row.tool,
        arguments=row.arguments or {},
        status=ApprovalStatus(row.status),
        reason=row.reason,
        decided_by=row.decided_by,
        deadline_at=to_optional_datetime(row.deadline_at),
        on_timeout=row.on_timeout,
        created_at=to_datetime(row.created_at),
        decided_at=to_optional_datetime(row.decided_at),
    )


class ApprovalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def request(
        self,
        *,
        request_key: str,
        execution_id: str,
        user_id: str,
        step_id: str,
        attempt: int,
        agent_id: str | None,
        agent_name: str | None,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        deadline_at: float | None,
        on_timeout: TimeoutOutcome,
    ) -> tuple[ToolApproval, bool]:
        """The pending approval for `request_key`, made now (True) or found from before
        (False: a replayed attempt asking again)."""
        existing = self.session.execute(
            select(ta).where(ta.c.request_key == request_key)
        ).one_or_none()
        if existing is not None:
            return _approval(existing), False
        approval_id = new_id()
        self.session.execute(
            insert(ta).values(
                id=approval_id,
                request_key=request_key,
                execution_id=execution_id,
                user_id=user_id,
                step_id=step_id,
                attempt=attempt,
                agent_id=agent_id,
                agent_name=agent_name,
                server=server,
                tool=tool,
                arguments=arguments,
                status=ApprovalStatus.PENDING.value,
                deadline_at=deadline_at,
                on_timeout=on_timeout,
                created_at=time.time(),
            )
        )
        return self.get(approval_id), True

    def get(self, approval_id: str, *, user_id: str | None = None) -> ToolApproval:
        """One approval; another user's is not found, as if it did not exist."""
        query = select(ta).where(ta.c.id == approval_id)
        if user_id is not None:
            query = query.where(ta.c.user_id == user_id)
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("approval", approval_id)
        return _approval(row)

    def list(
        self,
        *,
        user_id: str,
        status: ApprovalStatus | None = None,
        execution_id: str | None = None,
        limit: int = 200,
    ) -> builtins.list[ToolApproval]:
        """The user's approvals, oldest first (the order they were asked in)."""
        query = select(ta).where(ta.c.user_id == user_id)
        if status is not None:
            query = query.where(ta.c.status == ApprovalStatus(status).value)
        if execution_id is not None:
            query = query.where(ta.c.execution_id == execution_id)
        rows = self.session.execute(query.order_by(ta.c.created_at, ta.c.id).limit(limit))
        return [_approval(r) for r in rows]

    def decide(
        self,
        approval_id: str,
        status: ApprovalStatus,
        *,
        reason: str | None,
        decided_by: str | None,
    ) -> ToolApproval:
        """Move a pending approval to `status`; anything but pending refuses (409)."""
        changed = affected_rows(
            self.session.execute(
                update(ta)
                .where(ta.c.id == approval_id, ta.c.status == ApprovalStatus.PENDING.value)
                .values(
                    status=status.value,
                    reason=reason,
                    decided_by=decided_by,
                    decided_at=time.time(),
                )
            )
        )
        approval = self.get(approval_id)
        if not changed:
            raise IllegalTransition("approval", approval_id, approval.status.value, status.value)
        return approval

    def pending_of(
        self, execution_id: str, *, step_id: str | None = None, attempt: int | None = None
    ) -> builtins.list[ToolApproval]:
        """The pending approvals of an execution (of one attempt, when given)."""
        query = select(ta).where(
            ta.c.execution_id == execution_id, ta.c.status == ApprovalStatus.PENDING.value
        )
        if step_id is not None and attempt is not None:
            query = query.where(ta.c.step_id == step_id, ta.c.attempt == attempt)
        return [_approval(r) for r in self.session.execute(query.order_by(ta.c.created_at))]
