"""The live channel of what agents are writing (`TextDelta`s): sent, never stored.

Deltas are many and worthless once the call they belong to is recorded, so they bypass the
event log: a writer `publish`es each one and whoever `subscribe`d in any process that reaches
the same database gets it, or nobody does (a watcher that joins late sees the text from then
on; the recorded result is the truth).

- SQLite: one process runs the engine and serves the watchers (`accord serve`, `accord run`
  with its live view), so the channel is a fan-out in memory.
- Postgres: `accord worker` processes run the steps the server's watchers follow, so deltas
  travel through Postgres `NOTIFY`/`LISTEN` on channel `accord_live_text`. It needs no other
  service (the database is the one thing every process already reaches), is delivered in
  commit order within milliseconds, costs nothing when nobody listens, and a payload may hold
  8,000 bytes (pieces are at most `MAX_PIECE_CHARS`). Publishing never waits on the database:
  a thread of its own sends the notifications, and drops them (with one log line) while the
  database is unreachable. A listening process keeps one connection open for it.
"""

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from accord.domain.execution import TextDelta
from accord.storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "accord_live_text"
RECONNECT_SECONDS = 1.0
IDLE_SECONDS = 2.0

Deliver = Callable[[TextDelta], None]
"""Called with each delta, from any thread: must be quick and thread-safe."""


class LiveText:
    """A fan-out of `TextDelta`s to this process's subscribers."""

    def __init__(self) -> None:
        self._subscribers: list[Deliver] = []
        self._lock = threading.Lock()

    def publish(self, delta: TextDelta) -> None:
        """Hand `delta` to every subscriber; never blocks, never raises."""
        self._deliver(delta)

    def subscribe(self, deliver: Deliver) -> Callable[[], None]:
        """Call `deliver` with every delta from now on; returns the unsubscribe function."""
        with self._lock:
            self._subscribers = [*self._subscribers, deliver]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [d for d in self._subscribers if d is not deliver]

        return unsubscribe

    def _deliver(self, delta: TextDelta) -> None:
        for deliver in self._subscribers:
            try:
                deliver(delta)
            except Exception:  # one broken watcher must not stop the others, nor the writer
                log.exception("delivering a text delta failed")


class PostgresLiveText(LiveText):
    """The channel across processes, through Postgres `NOTIFY`/`LISTEN` (see the module)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._outbox: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def publish(self, delta: TextDelta) -> None:
        if self._sender is None:
            with self._start_lock:
                if self._sender is None:
                    self._sender = threading.Thread(
                        target=self._send_forever, name="accord-live-text-send", daemon=True
                    )
                    self._sender.start()
        self._outbox.put(delta.model_dump_json(by_alias=True))

    def subscribe(self, deliver: Deliver) -> Callable[[], None]:
        unsubscribe = super().subscribe(deliver)
        with self._start_lock:
            ready = self._start_listener()
        if ready is not None:
            ready.wait(timeout=5)  # listening before returning: later deltas are not missed
        return unsubscribe

    def _start_listener(self) -> threading.Event | None:
        """Start listening unless a listener runs (called holding `_start_lock`)."""
        if self._listener is not None:
            return None
        ready = threading.Event()
        self._listener = threading.Thread(
            target=self._listen_forever, args=(ready,), name="accord-live-text-listen", daemon=True
        )
        self._listener.start()
        return ready

    def _send_forever(self) -> None:
        import psycopg

        connection: Any = None
        failing = False
        while True:
            try:
                payload = self._outbox.get(timeout=IDLE_SECONDS)
            except queue.Empty:  # nothing to say for a while: give the connection back
                _close(connection)
                connection = None
                continue
            try:
                if connection is None:
                    connection = psycopg.connect(self.conninfo, autocommit=True)
                connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                failing = False
            except Exception as exc:
                if not failing:  # once per outage, not once per delta
                    log.warning("sending live text failed; dropping it until it works: %s", exc)
                failing = True
                _close(connection)
                connection = None

    def _listen_forever(self, ready: threading.Event) -> None:
        """Listen while anyone subscribes; the thread ends (and its connection closes) once
        nobody has for `IDLE_SECONDS`; the next `subscribe` starts another."""
        import psycopg

        try:
            while self._subscribers:
                try:
                    with psycopg.connect(self.conninfo, autocommit=True) as connection:
                        connection.execute(f"LISTEN {CHANNEL}")
                        ready.set()
                        while self._subscribers:
                            for notify in connection.notifies(timeout=IDLE_SECONDS):
                                self._received(notify.payload)
                except Exception as exc:
                    log.warning("listening for live text failed; reconnecting: %s", exc)
                    ready.set()
                    threading.Event().wait(RECONNECT_SECONDS)
        finally:
            with self._start_lock:
                self._listener = None
                if self._subscribers:  # one subscribed as this thread was ending
                    self._start_listener()

    def _received(self, payload: str) -> None:
        try:
            delta = TextDelta.model_validate_json(payload)
        except ValueError:
            log.warning("ignoring a malformed live text notification")
            return
        self._deliver(delta)


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()


_channels: dict[str, LiveText] = {}
_channels_lock = threading.Lock()


def live_text(db: Database) -> LiveText:
    """This process's channel for `db` (one per database, shared by its writers and
    watchers: on SQLite that is what makes a delta reach them)."""
    with _channels_lock:
        channel = _channels.get(db.url)
        if channel is None:
            channel = LiveText() if db.is_sqlite else PostgresLiveText(db.url)
            _channels[db.url] = channel
        return channel
