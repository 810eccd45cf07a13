"""Group commit: writes that arrive together share one transaction."""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Writes that arrive together share one transaction (SQLite has one writer at a time):
    while one batch commits, the items arriving queue up, and the next batch commits them all.
    Callers on any event loop await `submit` without holding a thread: one worker thread at a
    time writes, so a wide fan-out's attempts neither queue for threads nor contend for the
    database. `commit` takes a batch and answers each item in order; if a batch fails, its
    items are committed one at a time, so one bad item fails only itself."""

    def __init__(self, commit: Callable[[list[Item]], list[Result]]) -> None:
        self._commit = commit
        self._queued: list[tuple[Item, Future[Result]]] = []
        self._lock = threading.Lock()
        self._writing = False

    async def submit(self, item: Item) -> Result:
        answer: Future[Result] = Future()
        with self._lock:
            self._queued.append((item, answer))
            idle, self._writing = not self._writing, True
        if idle:
            asyncio.get_running_loop().run_in_executor(None, self._write)
        # Shielded: a caller cancelled meanwhile must not cancel the answer the writer sets.
        return await asyncio.shield(asyncio.wrap_future(answer))

    def _write(self) -> None:
        while True:
            with self._lock:
                batch, self._queued = self._queued, []
                if not batch:
                    self._writing = False
                    return
            self._run(batch)

    def _run(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        try:
            results = self._commit([item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                for pending in batch:
                    self._run([pending])
                return
            batch[0][1].set_exception(exc)
            return
        for (_, answer), result in zip(batch, results, strict=True):
            answer.set_result(result)
