"""Agent interactions: delegations, shared knowledge, coordination, feedback and questions.

Rows are ordered by `recorded_at` (sub-second), since `created_at` has the spec's one-second
resolution and a step records many interactions per second. A question that requires a
response carries `response_status`: pending until answered or past its deadline (expired).
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.domain.enums import InteractionType, QuestionStatus
from accord.domain.errors import IllegalTransition, NotFound
from accord.domain.interaction import AgentInteraction
from accord.storage.repositories._convert import (
    affected_rows,
    to_datetime,
    to_epoch,
    to_optional_datetime,
)
from accord.storage.tables import (
    agent_interactions,
    collaboration_workflows,
    new_id,
    workflow_executions,
)

ai = agent_interactions


def _interaction(row: Row[Any]) -> AgentInteraction:
    return AgentInteraction(
        id=row.id,
        workflow_execution_id=row.workflow_execution_id,
        from_agent_id=row.from_agent_id,
        to_agent_id=row.to_agent_id,
        interaction_type=InteractionType(row.interaction_type),
        message=row.message,
        context_data=row.context_data,
        related_step_id=row.related_step_id,
        related_task_id=row.related_task_id,
        requires_response=bool(row.requires_response),
        response_deadline=to_optional_datetime(row.response_deadline),
        response_received=bool(row.response_received),
        response_message=row.response_message,
        response_data=row.response_data,
        created_at=to_datetime(row.created_at),
        responded_at=to_optional_datetime(row.responded_at),
        to_user_id=row.to_user_id,
        response_status=None
        if row.response_status is None
        else QuestionStatus(row.response_status),
    )


class InteractionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        execution_id: str,
        from_agent_id: str,
        interaction_type: InteractionType,
        message: str,
        to_agent_id: str | None = None,
        to_user_id: str | None = None,
        context_data: dict[str, Any] | None = None,
        related_step_id: str | None = None,
        related_task_id: str | None = None,
        requires_response: bool = False,
        response_deadline: datetime | None = None,
    ) -> AgentInteraction:
        """Record an interaction; one that requires a response starts `pending`."""
        now = time.time()
        row = self.session.execute(
            insert(ai)
            .values(
                id=new_id(),
                workflow_execution_id=execution_id,
                from_agent_id=from_agent_id,
                to_agent_id=to_agent_id,
                to_user_id=to_user_id,
                interaction_type=InteractionType(interaction_type).value,
                message=message,
                context_data=context_data,
                related_step_id=related_step_id,
                related_task_id=related_task_id,
                requires_response=requires_response,
                response_deadline=to_epoch(response_deadline),
                response_received=False,
                response_status=QuestionStatus.PENDING.value if requires_response else None,
                created_at=int(now),
                recorded_at=now,
            )
            .returning(ai)
        ).one()
        return _interaction(row)

    def get(self, interaction_id: str, *, user_id: str | None = None) -> AgentInteraction:
        """One interaction; with `user_id`, only if it belongs to one of the user's executions
        or was put to the user."""
        query = select(ai).where(ai.c.id == interaction_id)
        if user_id is not None:
            query = query.where(
                or_(
                    ai.c.to_user_id == user_id,
                    ai.c.workflow_execution_id.in_(_executions_of(user_id)),
                )
            )
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("interaction", interaction_id)
        return _interaction(row)

    def list(
        self,
        execution_id: str,
        *,
        interaction_type: InteractionType | None = None,
        agent_id: str | None = None,
        step_id: str | None = None,
    ) -> builtins.list[AgentInteraction]:
        """An execution's interactions, oldest first; `agent_id` matches sender or receiver."""
        query = select(ai).where(ai.c.workflow_execution_id == execution_id)
        if interaction_type is not None:
            query = query.where(ai.c.interaction_type == InteractionType(interaction_type).value)
        if agent_id is not None:
            query = query.where(or_(ai.c.from_agent_id == agent_id, ai.c.to_agent_id == agent_id))
        if step_id is not None:
            query = query.where(ai.c.related_step_id == step_id)
        rows = self.session.execute(query.order_by(ai.c.recorded_at, ai.c.id))
        return [_interaction(r) for r in rows]

    def list_for_executions(self, execution_ids: Iterable[str]) -> builtins.list[AgentInteraction]:
        """Interactions of several executions (a workflow's, for its metrics), oldest first."""
        ids = list(execution_ids)
        if not ids:
            return []
        rows = self.session.execute(
            select(ai)
            .where(ai.c.workflow_execution_id.in_(ids))
            .order_by(ai.c.recorded_at, ai.c.id)
        )
        return [_interaction(r) for r in rows]

    def record_response(
        self,
        interaction_id: str,
        *,
        message: str,
        data: Any = None,
    ) -> AgentInteraction:
        """Answer a pending question. An answered or expired one cannot be answered again."""
        current = self.get(interaction_id)
        if current.response_status is not QuestionStatus.PENDING:
            raise IllegalTransition(
                "interaction",
                interaction_id,
                str(current.response_status or "no response required"),
                QuestionStatus.ANSWERED.value,
            )
        row = self.session.execute(
            update(ai)
            .where(ai.c.id == interaction_id, ai.c.response_status == QuestionStatus.PENDING.value)
            .values(
                response_received=True,
                response_message=message,
                response_data=data,
                responded_at=int(time.time()),
                response_status=QuestionStatus.ANSWERED.value,
            )
            .returning(ai)
        ).one_or_none()
        if row is None:  # answered or expired by someone else in between
            raise IllegalTransition(
                "interaction", interaction_id, "not pending", QuestionStatus.ANSWERED.value
            )
        return _interaction(row)

    def pending_questions_for_user(self, user_id: str) -> builtins.list[AgentInteraction]:
        rows = self.session.execute(
            select(ai)
            .where(ai.c.to_user_id == user_id, ai.c.response_status == QuestionStatus.PENDING.value)
            .order_by(ai.c.recorded_at, ai.c.id)
        )
        return [_interaction(r) for r in rows]

    def mark_expired(self, interaction_id: str) -> bool:
        """Expire one pending question (its asker stopped waiting); False if it was not pending."""
        result = self.session.execute(
            update(ai)
            .where(ai.c.id == interaction_id, ai.c.response_status == QuestionStatus.PENDING.value)
            .values(response_status=QuestionStatus.EXPIRED.value)
        )
        return affected_rows(result) > 0

    def expire_open(self, execution_id: str) -> int:
        """Expire the execution's pending questions (it ended: nobody waits for the answers);
        returns how many."""
        result = self.session.execute(
            update(ai)
            .where(
                ai.c.workflow_execution_id == execution_id,
                ai.c.response_status == QuestionStatus.PENDING.value,
            )
            .values(response_status=QuestionStatus.EXPIRED.value)
        )
        return affected_rows(result)


def _executions_of(user_id: str) -> Any:
    return (
        select(workflow_executions.c.id)
        .join(
            collaboration_workflows,
            collaboration_workflows.c.id == workflow_executions.c.workflow_id,
        )
        .where(collaboration_workflows.c.user_id == user_id)
    )
