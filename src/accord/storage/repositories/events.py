"""The append-only execution event log: the one writer and the one reader of `execution_events`.

Events are appended in the same transaction as the change they report, so a watcher that
reads after an event ID never sees a change without its event or an event without its change.

Reading on from a cursor goes through a `SettledHorizon` (`EventRepository.settled_after`),
because a plain "IDs above the last one seen" misses late commits on Postgres. IDs come from
an auto-increment column, so they are the global order, but on Postgres they are taken when a
row is inserted and become visible when its transaction commits: event 11 can be visible while
event 10, taken by a slower transaction, is not yet. A reader that took 11 and resumed from
there would never see 10. So a reader only moves up to its *settled horizon*: the highest ID
below which every ID is visible, or has been missing for longer than `grace_seconds` (then it
belongs to a rolled-back transaction or a sequence jump and will never appear). Gaps are judged
over all users' IDs (an ID taken by another user's event is not a gap), so the cost is that an
event behind a real gap waits up to `grace_seconds`; transactions that append events are short,
so gaps close within milliseconds in practice. On SQLite writers are serialised and commit in
ID order, so the only gaps are deleted rows.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.orm import Session

from accord.domain.events import EventKind
from accord.domain.execution import ExecutionEvent
from accord.storage.repositories._convert import to_datetime
from accord.storage.tables import execution_events

GAP_GRACE_S = 2.0
"""How long a reader waits for a missing ID before it takes it for one that never commits."""
PAGE_IDS = 5000
"""How many IDs one settled read looks at: a reader far behind catches up page by page."""


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
    below which every ID is visible, or has been missing longer than `grace_seconds`."""

    horizon: int
    grace_seconds: float
    _gap_seen_at: dict[tuple[int, int], float] = field(default_factory=dict)

    def advance(self, visible_ids: list[int], now: float, *, settled_up_to: int = 0) -> int:
        """`visible_ids`: every ID above the horizon now visible, ascending. `settled_up_to`:
        an ID below which no missing ID is worth waiting for any more."""
        self.horizon = max(self.horizon, settled_up_to)
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

    # --- reading on from a cursor -----------------------------------------------------------

    def settled_after(
        self,
        horizon: SettledHorizon,
        *,
        user_id: str | None = None,
        execution_id: str | None = None,
        all_committed: bool = False,
    ) -> list[ExecutionEvent]:
        """Move `horizon` on over the IDs now visible above it (one page of them); the events
        it passed, in ID order: the user's (of one execution) when given, else everyone's.
        `all_committed`: the caller knows every event it wants has committed (its execution
        has ended), so no gap holds the read back."""
        before = horizon.horizon
        upto = self.settle(horizon, all_committed=all_committed)
        if upto == before:
            return []
        return self.between(before, upto, user_id=user_id, execution_id=execution_id)

    def settle(self, horizon: SettledHorizon, *, all_committed: bool = False) -> int:
        """Move `horizon` on over the IDs now visible above it (one page); the new horizon.
        A missing ID below a row older than the grace period is not waited for: that row was
        inserted after the missing one was taken, so it has been in flight for longer."""
        rows = self.session.execute(
            select(execution_events.c.id, execution_events.c.created_at)
            .where(execution_events.c.id > horizon.horizon)
            .order_by(execution_events.c.id)
            .limit(PAGE_IDS)
        ).all()
        now = time.time()
        if all_committed:
            settled = rows[-1].id if rows else 0
        else:
            cutoff = now - horizon.grace_seconds
            settled = max((r.id for r in rows if r.created_at < cutoff), default=0)
        return horizon.advance([r.id for r in rows], now, settled_up_to=settled)

    def between(
        self,
        after: int,
        upto: int,
        *,
        user_id: str | None = None,
        execution_id: str | None = None,
    ) -> list[ExecutionEvent]:
        """The events with `after < id <= upto` (below a settled horizon), in ID order: the
        user's (of one execution) when given, else everyone's."""
        query = select(execution_events).where(
            execution_events.c.id > after, execution_events.c.id <= upto
        )
        if user_id is not None:
            query = query.where(execution_events.c.user_id == user_id)
        if execution_id is not None:
            query = query.where(execution_events.c.execution_id == execution_id)
        return [_event(r) for r in self.session.execute(query.order_by(execution_events.c.id))]

    def settled_start(self, *, grace_seconds: float) -> int:
        """Where a reader that starts "now" may put its horizon: the last ID older than the
        grace period (any newer ones are judged by the horizon, so a reader starting
        mid-commit misses none)."""
        cutoff = time.time() - grace_seconds
        value = self.session.execute(
            select(func.max(execution_events.c.id)).where(execution_events.c.created_at < cutoff)
        ).scalar()
        return int(value or 0)

    def newest_id(self) -> int:
        """The highest ID visible: where a reader interested only in what happens next starts
        (what is taken after this read is above it)."""
        return int(self.session.execute(select(func.max(execution_events.c.id))).scalar() or 0)

    def first_id(self, execution_id: str) -> int | None:
        """The execution's first event's ID (None before it has one)."""
        value = self.session.execute(
            select(func.min(execution_events.c.id)).where(
                execution_events.c.execution_id == execution_id
            )
        ).scalar()
        return None if value is None else int(value)

    # --- snapshots --------------------------------------------------------------------------

    def of_execution(
        self, *, user_id: str, execution_id: str, kind: str | None = None
    ) -> list[ExecutionEvent]:
        """The execution's events so far (of one kind, when given), oldest first."""
        query = select(execution_events).where(
            execution_events.c.user_id == user_id,
            execution_events.c.execution_id == execution_id,
        )
        if kind is not None:
            query = query.where(execution_events.c.kind == kind)
        return [_event(r) for r in self.session.execute(query.order_by(execution_events.c.id))]

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
