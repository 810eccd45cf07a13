"""The append-only execution event log that feeds SSE and the live views.

Events are appended in the same transaction as the change they report, so a watcher that
reads after an event ID never sees a change without its event or an event without its change.
"""

import time
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from accord.domain.execution import ExecutionEvent
from accord.storage.repositories._convert import to_datetime
from accord.storage.tables import execution_events


def _event(row: Row[Any]) -> ExecutionEvent:
    return ExecutionEvent(
        id=row.id,
        execution_id=row.execution_id,
        user_id=row.user_id,
        kind=row.kind,
        step_id=row.step_id,
        data=row.data or {},
        created_at=to_datetime(row.created_at),
    )


_APPEND = insert(execution_events)


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        execution_id: str,
        user_id: str,
        kind: str,
        step_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # One constant statement with separate parameters: compiled once, cached after.
        self.session.execute(
            _APPEND,
            {
                "execution_id": execution_id,
                "user_id": user_id,
                "kind": kind,
                "step_id": step_id,
                "data": data or {},
                "created_at": time.time(),
            },
        )

    def after(
        self, *, user_id: str, after_id: int = 0, execution_id: str | None = None, limit: int = 1000
    ) -> list[ExecutionEvent]:
        """The user's events with an ID above `after_id` (one execution's when given), in order."""
        query = select(execution_events).where(
            execution_events.c.user_id == user_id, execution_events.c.id > after_id
        )
        if execution_id is not None:
            query = query.where(execution_events.c.execution_id == execution_id)
        rows = self.session.execute(query.order_by(execution_events.c.id).limit(limit))
        return [_event(r) for r in rows]
