"""The engine's transactions, each in a worker thread so the event loop never blocks."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from accord.storage.db import Database

T = TypeVar("T")


async def write(db: Database, fn: Callable[[Session], T], *, retry: bool = True) -> T:
    """`fn` in one transaction, in a thread; run again while the database faults, unless
    `retry` is off (a transaction not safe to run twice: a start whose commit may have
    landed before the connection broke would make a second execution)."""
    return await asyncio.to_thread(
        db.transaction, fn, what="an engine transaction", retry_for_s=60 if retry else 0
    )


async def read(db: Database, fn: Callable[[Session], T], *, what: str) -> T:
    return await asyncio.to_thread(db.transaction, fn, what=what, read=True)
