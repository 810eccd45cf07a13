"""DBOS in this process, set up for Accord: its configuration, the JSON serializer it records
inputs and outputs with, where its system database lives and how SQLite is tuned for it, and
the one workflow Accord registers (`accord_step_attempt`, one per step attempt).

One `DbosRuntime` runs per process (DBOS is a process-wide singleton)."""

import asyncio
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Serializer
from dbos import error as dbos_errors

from accord.engine.attempt_keys import AttemptKey
from accord.engine.durable_calls import AttemptSuspended
from accord.engine.queue import AttemptQueue
from accord.storage.db import Database, data_dir, sqlite_path
from accord.storage.permissions import private_file

APPLICATION_VERSION = "accord-engine-1"
"""Pinned: recovery only resumes workflows of the same version, and ours are stable by name."""


class _QuietCancellations(logging.Filter):
    """DBOS logs a traceback, as an error, for each attempt that finds out at a recorded call
    that another process cancelled it (its execution was cancelled or ended); that is how an
    attempt running here learns of a cancel from the server, not a failure. Its one-line
    warning ("was cancelled during execution") stays."""

    stopping = False
    """Set while the engine stops: attempts cut short then (one waiting for the outcome of
    its resumed self, say) are resumed by the next start, and DBOS's tracebacks about them
    are noise on a terminal whose command succeeded."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and self.stopping:
            return False
        return not isinstance(
            error, (dbos_errors.DBOSAwaitedWorkflowCancelledError, AttemptSuspended)
        )


_QUIET_CANCELLATIONS = _QuietCancellations()


class JsonSerializer(Serializer):
    """DBOS records our workflow inputs and step outputs as plain JSON, never pickle."""

    def serialize(self, data: Any) -> str:
        return json.dumps(data, separators=(",", ":"), default=_jsonable)

    def deserialize(self, serialized_data: str) -> Any:
        return json.loads(serialized_data)

    def name(self) -> str:
        return "accord_json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):  # a schedule's tick time
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


AttemptHandler = Callable[[AttemptKey], Awaitable[None]]

_attempts_here: AttemptHandler | None = None
"""What runs the attempt workflows DBOS starts in this process (the engine's attempts)."""


def serve_attempts(handler: AttemptHandler) -> None:
    global _attempts_here
    if _attempts_here is not None:
        raise RuntimeError("an Accord engine is already running in this process")
    _attempts_here = handler


def stop_serving_attempts() -> None:
    global _attempts_here
    _attempts_here = None


def attempts_served_by(handler: AttemptHandler) -> bool:
    return _attempts_here == handler


@DBOS.workflow(name="accord_step_attempt")
async def step_attempt(execution_id: str, step_id: str, attempt: int) -> None:
    if _attempts_here is None:
        raise RuntimeError("no Accord engine is running in this process")
    await _attempts_here((execution_id, step_id, attempt))


class DbosRuntime:
    """DBOS configured for one engine: launched when it starts, destroyed when it stops."""

    def __init__(
        self, *, system_database_url: str, executor_id: str, queue: AttemptQueue | None
    ) -> None:
        self.system_database_url = system_database_url
        self.executor_id = executor_id
        self.queue = queue
        self._system_engine: sa.Engine | None = None  # ours to dispose: DBOS does not

    def configure(self) -> None:
        config: DBOSConfig = {
            "name": "accord",
            "system_database_url": self.system_database_url,
            "application_version": APPLICATION_VERSION,
            "executor_id": self.executor_id,
            "serializer": JsonSerializer(),
            # DBOS's default. On SQLite this thread polls only for DBOS messages, events and
            # streams, none of which Accord uses (attempts wake each other through `Waiters`);
            # at 10 ms it cost about 1 ms of CPU a step while calls waited.
            "notification_listener_polling_interval_sec": 1.0,
            # Every attempt hands its transactions to this pool; DBOS's default (CPUs + 4)
            # makes wide fan-outs queue for a thread.
            "max_executor_threads": 64,
            "log_level": os.environ.get("ACCORD_DBOS_LOG_LEVEL", "WARNING"),
            # How soon a process picks up a schedule made or changed elsewhere.
            "scheduler_polling_interval_sec": 5.0,
        }
        if self.system_database_url.startswith("sqlite"):
            self._system_engine = sqlite_system_engine(self.system_database_url)
            config["system_database_engine"] = self._system_engine
        else:
            # DBOS's default (20 connections a process) runs a few workers into Postgres's
            # default max_connections (100); each attempt holds at most one at a time.
            concurrency = self.queue.worker_concurrency if self.queue else 8
            config["sys_db_pool_size"] = min(20, concurrency + 2)
        DBOS(config=config)
        _QUIET_CANCELLATIONS.stopping = False
        logging.getLogger("dbos").addFilter(_QUIET_CANCELLATIONS)

    async def launch(self) -> None:
        if self.queue is not None and not self.queue.run_steps:
            DBOS.listen_queues([])  # DBOS's own internal queue is always served
        await asyncio.to_thread(DBOS.launch)

    async def destroy(self) -> None:
        _QUIET_CANCELLATIONS.stopping = True
        await asyncio.to_thread(DBOS.destroy)
        if self._system_engine is not None:
            self._system_engine.dispose()
            self._system_engine = None
        # DBOS made its (now shut down) thread pool this loop's default executor.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())

    async def resume_pending_of(self, executor_ids: list[str]) -> None:
        """DBOS puts the pending attempt workflows of these (dead) executors back on their
        queue (what its admin API's recovery endpoint does; the executor-ID predicate makes a
        second request a no-op)."""
        # Accord's one use of a private DBOS name, kept here alone. DBOS 3.4 has no public
        # call for it: `DBOS.resume_workflow` re-enqueues whatever is not finished, with no
        # check of the executor, so a second reaper's request could start an attempt again
        # beside the process that already took it over; recovery's predicate prevents that.
        await asyncio.to_thread(DBOS._recover_pending_workflows, executor_ids)


def system_database_url_for(db: Database, state_dir: Path | None = None) -> str:
    """Where DBOS keeps its records for `db`: the same Postgres database, or a SQLite file
    next to a SQLite database (named after it, so two databases never share one)."""
    if not db.is_sqlite:
        return db.url
    db_file = sqlite_path(db.url)
    folder = state_dir or (db_file.parent if db_file else data_dir())
    name = db_file.stem if db_file else "accord"
    return f"sqlite:///{folder / f'{name}.dbos.sqlite'}"


SYSTEM_BUSY_TIMEOUT_S = 30
"""How long a write to DBOS's SQLite system database waits for its turn, then for SQLite."""


def sqlite_system_engine(url: str) -> sa.Engine:
    """DBOS's SQLite system database as DBOS sets it up (immediate transactions, a busy
    timeout), plus WAL and synchronous=NORMAL: without them every recorded step waits on
    several fsyncs (measured: 5-50 ms a step instead of about 2). Commits still survive a
    process crash; only a power loss may lose the last ones, as for our own tables."""
    path = sqlite_path(url)
    if path is not None:
        private_file(path)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        dbapi_connection.execute(f"PRAGMA busy_timeout={SYSTEM_BUSY_TIMEOUT_S * 1000}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    _take_turns(engine)
    return engine


def _take_turns(engine: sa.Engine) -> None:
    """This process's threads use the system database one at a time, on a lock that hands
    over at once. Meeting in SQLite's busy handler instead, which sleeps 1, 2, 5, 10, ... ms
    between tries, a fan-out's attempts waited up to 50 ms each to record a result.

    A thread may open a second connection while holding one (it goes ahead: the turn is its
    own); the connection that took the turn gives it back, whichever thread returns it. A
    thread kept waiting as long as SQLite's busy timeout goes ahead without it, as before."""
    turn = threading.Lock()
    held = threading.local()

    @sa.event.listens_for(engine, "checkout")
    def _take(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        depth = getattr(held, "depth", 0)
        if depth == 0:
            record.info["turn"] = turn.acquire(timeout=SYSTEM_BUSY_TIMEOUT_S)
        held.depth = depth + 1

    @sa.event.listens_for(engine, "checkin")
    def _give(_dbapi_connection: Any, record: Any) -> None:
        held.depth = max(0, getattr(held, "depth", 0) - 1)
        if record.info.pop("turn", False):
            turn.release()
