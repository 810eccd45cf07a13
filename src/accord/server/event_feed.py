"""Tailing `execution_events` for live streams, in ID order, without missing a late commit.

The event log is the only source: whichever process runs an execution (this one, an
`accord worker`, `accord run` in a terminal) appends rows, and the server polls for them, so
every watcher sees every execution. One `EventHub` per server tails the log for all open
streams (one read per poll, not one per stream) and hands each stream its user's events; a
commit in this process that appends an event wakes it at once, and polling every
`poll_seconds` covers the other processes.

Events go out in ID order, each stream only up to the hub's settled horizon (see
`accord.storage.repositories.events`: an ID taken by a slower transaction on Postgres becomes
visible after higher ones, and a stream that jumped past it would never send it), and
`Last-Event-ID` is an exact cursor.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from sqlalchemy import event

from accord.domain.execution import ExecutionEvent, TextDelta
from accord.storage.db import Database
from accord.storage.live_text import LiveText
from accord.storage.repositories.events import EventRepository, SettledHorizon
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import ProjectMemberRepository

log = logging.getLogger(__name__)

CREDENTIAL_CHECK_S = 0.5
"""How often open streams' credentials are checked: a revoked one's streams end within it."""
MAX_QUEUED_DELTAS = 1000
"""A stream whose client reads slower than agents write skips text deltas past this backlog
(they are a show; events are never skipped)."""


@dataclass(eq=False)
class Subscription:
    user_id: str
    execution_id: str | None
    horizon: int
    """The hub's settled horizon when the stream subscribed: history up to it is read from
    the table, everything after arrives through `queue`."""
    credential_id: str | None = None
    """The token or session that opened the stream; when it stops letting its user in, the
    hub puts `None` in `queue` and the stream ends."""
    membership: tuple[str, str] | None = None
    """(project ID, user ID) when the user watches through a project shared with them: the
    stream ends when they are no longer a member."""
    queue: asyncio.Queue[ExecutionEvent | TextDelta | None] = field(default_factory=asyncio.Queue)
    ended: bool = False

    def wants(self, event: ExecutionEvent | TextDelta) -> bool:
        return event.user_id == self.user_id and (
            self.execution_id is None or event.execution_id == self.execution_id
        )


class EventHub:
    """The server's one tail of the event log, fanned out to its streams."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float,
        grace_seconds: float,
        live: LiveText | None = None,
        credential_check_seconds: float = CREDENTIAL_CHECK_S,
    ) -> None:
        """`live`: the channel of what agents are writing (`TextDelta`s), handed to the
        streams as it comes, between the events and never stored."""
        self.db = db
        self.live = live
        self._unsubscribe_live: Callable[[], None] | None = None
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.credential_check_seconds = credential_check_seconds
        self._credential_task: asyncio.Task[None] | None = None
        self._settled = SettledHorizon(horizon=0, grace_seconds=grace_seconds)
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        def floor() -> int:
            with self.db.read_session() as session:
                return EventRepository(session).settled_start(grace_seconds=self.grace_seconds)

        self._settled.horizon = await to_thread.run_sync(floor)
        self._loop = asyncio.get_running_loop()
        event.listen(self.db.engine, "after_cursor_execute", self._note_event_insert)
        event.listen(self.db.engine, "commit", self._wake_after_event_commit)
        self._task = asyncio.create_task(self._run())
        self._credential_task = asyncio.create_task(self._end_revoked_streams())
        if self.live is not None:
            loop = self._loop

            def deliver(delta: TextDelta) -> None:  # on the channel's thread
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(self._hand_out_delta, delta)

            self._unsubscribe_live = await to_thread.run_sync(self.live.subscribe, deliver)

    async def stop(self) -> None:
        if self._unsubscribe_live is not None:
            self._unsubscribe_live()
        event.remove(self.db.engine, "after_cursor_execute", self._note_event_insert)
        event.remove(self.db.engine, "commit", self._wake_after_event_commit)
        for task in (self._task, self._credential_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _end_revoked_streams(self) -> None:
        """End the streams whose credential was revoked, expired, signed out or whose user
        was disabled, by whichever process: one query for all open streams, twice a second."""
        while True:
            await asyncio.sleep(self.credential_check_seconds)
            watched = [s for s in self._subscriptions if s.credential_id and not s.ended]
            if not watched:
                continue
            ids = {s.credential_id for s in watched if s.credential_id}
            memberships = {s.membership for s in watched if s.membership}
            try:
                valid, members = await to_thread.run_sync(self._still_allowed, ids, memberships)
            except Exception:  # a database hiccup must not end every stream
                log.exception("checking the open streams' credentials failed; retrying")
                continue
            for subscription in watched:
                if subscription.credential_id not in valid or (
                    subscription.membership is not None and subscription.membership not in members
                ):
                    subscription.ended = True
                    subscription.queue.put_nowait(None)

    async def stream(
        self,
        *,
        user_id: str,
        execution_id: str | None,
        after: int | None,
        credential_id: str | None = None,
        membership: tuple[str, str] | None = None,
    ) -> AsyncIterator[ExecutionEvent | TextDelta]:
        """The user's events in ID order: after `after` (a Last-Event-ID), else from the
        execution's first event, or from now for a user's stream; then live, until the
        credential `credential_id` stops being valid or the user leaves the shared project of
        `membership` (forever without them). Text deltas come between the live events as
        agents write (never in the history)."""
        subscription = Subscription(
            user_id,
            execution_id,
            horizon=self._settled.horizon,
            credential_id=credential_id,
            membership=membership,
        )
        self._subscriptions.add(subscription)
        try:
            if after is not None:
                cursor = after
            else:
                cursor = 0 if execution_id is not None else subscription.horizon

            def history() -> list[ExecutionEvent]:
                with self.db.read_session() as session:
                    return EventRepository(session).between(
                        cursor, subscription.horizon, user_id=user_id, execution_id=execution_id
                    )

            for past in await to_thread.run_sync(history):
                yield past
            cursor = max(cursor, subscription.horizon)
            while True:
                live = await subscription.queue.get()
                if live is None:
                    return
                if isinstance(live, TextDelta):
                    yield live
                elif live.id > cursor:
                    cursor = live.id
                    yield live
        finally:
            self._subscriptions.discard(subscription)

    async def _run(self) -> None:
        while True:
            try:
                settled = await to_thread.run_sync(self._poll)
            except Exception:  # a database hiccup must not end every stream
                log.exception("reading the event log failed; retrying")
                settled = []
            for settled_event in settled:
                for subscription in list(self._subscriptions):
                    if subscription.wants(settled_event):
                        subscription.queue.put_nowait(settled_event)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    def _still_allowed(
        self, ids: set[str], memberships: set[tuple[str, str]]
    ) -> tuple[set[str], set[tuple[str, str]]]:
        with self.db.read_session() as session:
            return (
                TokenRepository(session).still_valid(ids),
                ProjectMemberRepository(session).still_members(memberships),
            )

    def _hand_out_delta(self, delta: TextDelta) -> None:
        for subscription in self._subscriptions:
            if subscription.wants(delta) and subscription.queue.qsize() < MAX_QUEUED_DELTAS:
                subscription.queue.put_nowait(delta)

    def _poll(self) -> list[ExecutionEvent]:
        """Advance the settled horizon; the newly settled events when anyone is listening."""
        with self.db.read_session() as session:
            events = EventRepository(session)
            before = self._settled.horizon
            after = events.settle(self._settled)
            if after == before or not self._subscriptions:
                return []
            return events.between(before, after)

    # In-process wake-up: a transaction of this process that appended an event wakes the hub
    # as it commits (the poll it triggers may run a moment before the commit is visible; the
    # next regular poll then finds it).

    def _note_event_insert(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:30].upper().startswith("INSERT INTO EXECUTION_EVENTS"):
            conn.info["accord_event_written"] = True

    def _wake_after_event_commit(self, conn: Any) -> None:
        if conn.info.pop("accord_event_written", False) and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to wake
                self._loop.call_soon_threadsafe(self._wake.set)
