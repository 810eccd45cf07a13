"""The append-only execution event log that feeds SSE and the live views.

Events are appended in the same transaction as the change they report, so a watcher that
reads after an event ID never sees a change without its event or an event without its change.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from accord.domain.events import EventKind
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


@dataclass
class SettledHorizon:
    """Pure bookkeeping of the settled horizon over the IDs seen above it: the highest ID
    below which every ID is visible, or has been missing longer than `grace_seconds` (see
    `accord.server.event_feed` for why Postgres needs it)."""

    horizon: int
    grace_seconds: float
    _gap_seen_at: dict[tuple[int, int], float] = field(default_factory=dict)

    def advance(self, visible_ids: list[int], now: float) -> int:
        """`visible_ids`: every ID above the horizon now visible, ascending."""
        for event_id in visible_ids:
            if event_id <= self.horizon:
                continue
            if event_id != self.horizon + 1:
                gap = (self.horizon, event_id)
                first_seen = self._gap_seen_at.setdefault(gap, now)
                if now - first_seen < self.grace_seconds:
                    break
            self.horizon = event_id
        self._gap_seen_at = {g: t for g, t in self._gap_seen_at.items() if g[0] >= self.horizon}
        return self.horizon


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        execution_id: str,
        user_id: str,
        kind: EventKind,
        step_id: str | None = None,
        data: Mapping[str, object] | None = None,
    ) -> None:
        # One constant statement with separate parameters: compiled once, cached after.
        self.session.execute(
            _APPEND,
            {
                "execution_id": execution_id,
                "user_id": user_id,
                "kind": str(kind),  # the wire format: the kind's string
                "step_id": step_id,
                "data": data or {},
                "created_at": time.time(),
            },
        )

    def all_after(self, after_id: int, *, limit: int = 1000) -> list[ExecutionEvent]:
        """Every user's events with an ID above `after_id`, in order."""
        rows = self.session.execute(
            select(execution_events)
            .where(execution_events.c.id > after_id)
            .order_by(execution_events.c.id)
            .limit(limit)
        )
        return [_event(r) for r in rows]

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

    def latest(self, *, user_id: str, execution_id: str, limit: int) -> list[ExecutionEvent]:
        """The execution's last `limit` events, oldest first (what someone catching up reads)."""
        rows = self.session.execute(
            select(execution_events)
            .where(
                execution_events.c.user_id == user_id,
                execution_events.c.execution_id == execution_id,
            )
            .order_by(execution_events.c.id.desc())
            .limit(limit)
        )
        return [_event(r) for r in reversed(list(rows))]
