"""Tailing `execution_events` for live streams, in ID order, without missing a late commit.

The event log is the only source: whichever process runs an execution (this one, an
`accord worker`, `accord run` in a terminal) appends rows, and a stream polls for them, so
every watcher sees every execution.

IDs come from an auto-increment column, so they are the global order, but on Postgres they
are taken when a row is inserted and become visible when its transaction commits: event 11
can be visible while event 10, taken by a slower transaction, is not yet. A stream that sent
11 and resumed from there would never send 10. So a stream only sends events up to its
*settled horizon*: the highest ID below which every ID is visible, or has been missing for
longer than `grace_seconds` (then it belongs to a rolled-back transaction or a sequence jump
and will never appear). Gaps are judged over all users' IDs (an ID taken by another user's
event is not a gap), events are sent in ID order, and `Last-Event-ID` is an exact cursor.
The cost is that an event behind a real gap waits up to `grace_seconds`; transactions that
append events are short, so gaps close within milliseconds in practice. On SQLite writers are
serialised and commit in ID order, so the only gaps are deleted rows.
"""

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.domain.execution import ExecutionEvent
from accord.storage.repositories._convert import to_datetime
from accord.storage.tables import execution_events

MAX_IDS_PER_POLL = 5000


@dataclass
class SettledHorizon:
    """Pure bookkeeping of the settled horizon over the IDs seen above it."""

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


def _event(row) -> ExecutionEvent:
    return ExecutionEvent(
        id=row.id,
        execution_id=row.execution_id,
        user_id=row.user_id,
        kind=row.kind,
        step_id=row.step_id,
        data=row.data or {},
        created_at=to_datetime(row.created_at),
    )


def settled_start(session: Session, *, grace_seconds: float) -> int:
    """Where a stream that starts "now" begins: the last ID older than the grace period (any
    newer ones are re-judged by the horizon, so a stream starting mid-commit misses none)."""
    cutoff = time.time() - grace_seconds
    value = session.execute(
        select(func.max(execution_events.c.id)).where(execution_events.c.created_at < cutoff)
    ).scalar()
    return int(value or 0)


@dataclass
class EventTail:
    """One stream's cursor over the log: the user's events, optionally of one execution."""

    user_id: str
    execution_id: str | None
    cursor: int
    """The last ID sent (or skipped as not this stream's)."""
    settled: SettledHorizon

    @classmethod
    def start(
        cls,
        session: Session,
        *,
        user_id: str,
        execution_id: str | None,
        after: int | None,
        grace_seconds: float,
    ) -> "EventTail":
        """`after`: the client's Last-Event-ID. Without it an execution's stream replays the
        execution from its first event and the user's stream starts now."""
        floor = settled_start(session, grace_seconds=grace_seconds)
        if after is not None:
            cursor = after
        elif execution_id is not None:
            cursor = 0
        else:
            cursor = floor
        return cls(
            user_id=user_id,
            execution_id=execution_id,
            cursor=cursor,
            settled=SettledHorizon(horizon=floor, grace_seconds=grace_seconds),
        )

    def poll(self, session: Session, *, now: float | None = None) -> list[ExecutionEvent]:
        """The stream's events that settled since the last poll, in ID order."""
        ids = (
            session.execute(
                select(execution_events.c.id)
                .where(execution_events.c.id > self.settled.horizon)
                .order_by(execution_events.c.id)
                .limit(MAX_IDS_PER_POLL)
            )
            .scalars()
            .all()
        )
        horizon = self.settled.advance(list(ids), time.time() if now is None else now)
        if horizon <= self.cursor:
            return []
        query = select(execution_events).where(
            execution_events.c.user_id == self.user_id,
            execution_events.c.id > self.cursor,
            execution_events.c.id <= horizon,
        )
        if self.execution_id is not None:
            query = query.where(execution_events.c.execution_id == self.execution_id)
        events = [_event(r) for r in session.execute(query.order_by(execution_events.c.id))]
        self.cursor = horizon
        return events
