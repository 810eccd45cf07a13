"""Where the database is and how to connect: SQLite by default, Postgres by URL.

SQLite setup lives here and only here: WAL, foreign keys on, a busy timeout, and
`BEGIN IMMEDIATE` for every writing transaction so two writers queue instead of failing
mid-way. Read-only transactions (`Database.read_session`) begin deferred: under WAL they
never wait for a writer nor make one wait, so API reads and event streams stay fast while
the engine writes.
"""

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from accord.storage.faults import RETRY_FOR_S, is_disk_full, retrying, storage_full
from accord.storage.permissions import private_dir, private_file

T = TypeVar("T")

DATABASE_URL_ENV = "ACCORD_DATABASE_URL"
DATA_DIR_ENV = "ACCORD_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "accord_read_only"
"""Execution option that marks a connection's transactions as read-only (see `read_session`)."""


def data_dir() -> Path:
    """The user's Accord data directory (`ACCORD_DATA_DIR` overrides it), owner-only."""
    return private_dir(Path(os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("accord")))


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    if not is_sqlite(url) or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir() / 'accord.db'}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or database_url()
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None and path.parent.is_dir():
            private_file(path)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # SQLite has one writer at a time. This process's writers queue on a lock, which hands
    # over at once, rather than in SQLite's busy handler, which sleeps 1, 2, 5, 10, ... ms
    # between tries and so often well past the moment the writer ahead ended. A connection
    # takes it as it begins writing and gives it back when it returns to the pool, whichever
    # thread returns it; after the busy timeout a writer goes ahead without it, as before.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if not connection.info.get("writer"):
            connection.info["writer"] = writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("writer", False):
            writer.release()


class Database:
    """An engine and its session factory; the unit of work is `with db.session() as s:`."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = url or database_url()
        self.engine = create_db_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A transaction that only reads. On SQLite it neither waits for writers nor blocks
        them (WAL); writing in it may fail with "database is locked", so don't."""
        with self._readers() as session, session.begin():
            yield session

    def transaction(
        self,
        fn: Callable[[Session], T],
        *,
        what: str,
        read: bool = False,
        retry_for_s: float = RETRY_FOR_S,
    ) -> T:
        """`fn(session)` in one transaction, run again with backoff while the database faults
        transiently (see `accord.storage.faults.retrying`): only for work that is safe to run
        twice. A full disk raises `StorageFull`, naming the file and the space left."""

        def once() -> T:
            with self.read_session() if read else self.session() as session:
                return fn(session)

        try:
            return retrying(once, what=what, retry_for_s=retry_for_s)
        except Exception as exc:
            if is_disk_full(exc):
                raise storage_full(self.url) from exc
            raise

    def upgrade(self) -> None:
        from accord.storage.migrate import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
