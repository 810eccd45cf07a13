"""Database faults: errors that are the database's and not the work's, and how to meet them.

A lost connection, a database restarting, or SQLite busy past its timeout passes: the
transaction is tried again after a backoff (`retrying`), and nothing is charged to the work
that was running. A full disk does not pass by waiting: it is reported once, as `StorageFull`,
naming the file and the space left, so a command can stop cleanly. Neither ever shows a user
SQL: `DatabaseUnavailable` and `StorageFull` carry a sentence, and the log has the details.
"""

import logging
import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import exc as sa_exc

from accord.domain.errors import AccordError

T = TypeVar("T")

log = logging.getLogger(__name__)

RETRY_FOR_S = 60.0
"""How long a transaction is tried again before the fault is reported (`DatabaseUnavailable`)."""
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0

# Postgres error classes (SQLSTATE) a transaction can be run again after: connection
# exceptions, insufficient resources other than a full disk, an operator shutting the server
# down or cancelling the backend, a server starting up, serialization failures and deadlocks.
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")
_DISK_FULL_SQLSTATE = "53100"
_TRANSIENT_SQLITE_TEXT = ("database is locked", "database table is locked")
# SQLITE_FULL, and SQLITE_IOERR_* on writing: the file system refused to grow a file (a
# quota, a size limit: SQLite reports those as I/O errors), which waiting does not cure.
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_SQLITE_IOERR_READS = (266, 522)  # IOERR_READ, IOERR_SHORT_READ: not a full disk
_TRANSIENT_DRIVER_TEXT = (
    "server closed the connection unexpectedly",
    "connection failed",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "consuming input failed",
    "connection is closed",
    "connection refused",
)


class DatabaseUnavailable(AccordError):
    """The database did not answer (or stayed busy) for longer than Accord waits."""

    code = "database_unavailable"


class StorageFull(AccordError):
    """The database cannot grow: its disk (or its size limit) is full."""

    code = "storage_full"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (SQLAlchemy's `orig`) and what caused it."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return seen


def is_disk_full(exc: BaseException) -> bool:
    for item in _chain(exc):
        if isinstance(item, StorageFull):
            return True
        code = getattr(item, "sqlite_errorcode", None) if isinstance(item, sqlite3.Error) else None
        if code is not None and (
            code == _SQLITE_FULL
            or (code & 0xFF == _SQLITE_IOERR and code not in _SQLITE_IOERR_READS)
        ):
            return True
        if getattr(item, "sqlstate", None) == _DISK_FULL_SQLSTATE:
            return True
        if isinstance(item, OSError) and item.errno in (27, 28, 122):  # EFBIG, ENOSPC, EDQUOT
            return True
        if "database or disk is full" in str(item).lower():
            return True
    return False


def is_transient(exc: BaseException) -> bool:
    """Whether the transaction that raised `exc` may simply be run again: the database was
    out of reach or busy, and the transaction did not happen (or its retry finds it done)."""
    if is_disk_full(exc):
        return False
    for item in _chain(exc):
        if isinstance(item, DatabaseUnavailable):
            return True
        if isinstance(item, sa_exc.DBAPIError) and item.connection_invalidated:
            return True
        if isinstance(item, sa_exc.TimeoutError):  # no pooled connection came free in time
            return True
        sqlstate = getattr(item, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES):
            return True
        text = str(item).lower()
        if isinstance(item, sqlite3.OperationalError) and any(
            t in text for t in _TRANSIENT_SQLITE_TEXT
        ):
            return True
        if type(item).__module__.startswith("psycopg") and any(
            t in text for t in _TRANSIENT_DRIVER_TEXT
        ):
            return True
    return False


EXIT_STORAGE_FULL = 74
"""`accord`'s exit code when the disk is full (EX_IOERR of sysexits.h)."""
EXIT_DATABASE_UNAVAILABLE = 75
"""`accord`'s exit code when the database stayed out of reach (EX_TEMPFAIL: try again)."""


def storage_full(database_url: str, *, data_dir: Path | None = None) -> StorageFull:
    """The one message for a full disk: which file, and how much room is left on its disk."""
    from accord.storage.db import sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        return StorageFull(
            "The database server's disk is full: it refused to store more. Free space on the "
            "Postgres server, then run the command again; what was recorded is kept and the "
            "execution resumes."
        )
    folder = path.parent if path.parent.exists() else data_dir or path.parent
    try:
        free = _size(shutil.disk_usage(folder).free)
    except OSError:
        free = "unknown"
    return StorageFull(
        f"Cannot write to {path}: the database or its disk is full ({free} free on that "
        "disk). Free some space, then run the command again; what was recorded is kept and "
        "the execution resumes where it stopped.",
        details={"path": str(path), "free": free},
    )


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def as_user_error(exc: BaseException, database_url: str) -> AccordError | None:
    """A database fault as the sentence a user sees (never SQL); None for any other error."""
    if isinstance(exc, AccordError):
        return exc if isinstance(exc, (StorageFull, DatabaseUnavailable)) else None
    if is_disk_full(exc):
        return storage_full(database_url)
    if is_transient(exc):
        return DatabaseUnavailable(
            "The database is not answering (restarting, out of reach, or busy); "
            "nothing was changed. Try again in a moment."
        )
    return None


def retrying(
    fn: Callable[[], T],
    *,
    what: str,
    retry_for_s: float = RETRY_FOR_S,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`fn()` (one whole transaction), run again after a backoff while the database faults
    transiently, for up to `retry_for_s` seconds; then `DatabaseUnavailable`. A full disk
    raises `StorageFull` at once. Only for transactions that are safe to run twice (their
    commit may have landed before the connection broke)."""
    deadline = time.monotonic() + retry_for_s
    backoff = FIRST_BACKOFF_S
    tries = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            tries += 1
            if time.monotonic() >= deadline:
                waited = f" for {retry_for_s:g} s" if retry_for_s > 0 else ""
                raise DatabaseUnavailable(
                    f"The database did not answer{waited} ({what}): it is restarting, out of "
                    "reach or busy. Nothing was lost; try again in a moment."
                ) from exc
            pause = backoff * (0.5 + random.random())
            log.warning(
                "database fault during %s (try %d), trying again in %.2f s: %s",
                what,
                tries,
                pause,
                describe(exc),
            )
            sleep(pause)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def describe(exc: BaseException) -> str:
    """The driver's own words for a database error, without the SQL SQLAlchemy adds."""
    orig = getattr(exc, "orig", None)
    return _first_line(orig if orig is not None else exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).split("\n", 1)[0][:200]
