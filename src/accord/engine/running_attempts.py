"""The attempts running in this process, and the watcher that stops those another process
cancelled."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from accord.engine.attempt_keys import AttemptKey, attempt_key_of, attempt_workflow_id
from accord.storage.db import Database
from accord.storage.repositories.step_runs import StepRunRepository

CANCEL_POLL_S = 0.5
"""How often the watcher reads the runs of the attempts running here."""


class RunningAttempts:
    """Each attempt's task, by its workflow ID, while it runs here."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._running: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}

    def __contains__(self, workflow_id: str) -> bool:
        return workflow_id in self._running

    @contextlib.contextmanager
    def running(self, workflow_id: str) -> Iterator[None]:
        """The current task runs the attempt while the block runs."""
        task = asyncio.current_task()
        assert task is not None
        self._running[workflow_id] = (asyncio.get_running_loop(), task)
        try:
            yield
        finally:
            self._running.pop(workflow_id, None)

    def cancel_here(self, workflow_id: str) -> bool:
        """Cancel the attempt's task if it runs in this process; False if it does not."""
        entry = self._running.get(workflow_id)
        if entry is None:
            return False
        entry[0].call_soon_threadsafe(entry[1].cancel)
        return True

    def cancel_all(self) -> None:
        for workflow_id in list(self._running):
            self.cancel_here(workflow_id)

    async def stop_cancelled_elsewhere(self) -> None:
        """Stop the attempts running here whose runs another process cancelled.

        Another process (the server cancelling an execution, a worker failing it or ending its
        parent) cannot cancel this process's tasks: it cancels their DBOS workflows, which an
        attempt notices only at its next recorded call. One waiting for a child execution or
        for the user's answer may not get there for minutes, and meanwhile it holds one of
        this process's queue slots (DBOS counts the tasks it runs). Reading their runs every
        CANCEL_POLL_S and cancelling those cancelled, as `Engine._after` does for executions
        ended here, stops them within that time. (Only cancelled runs: an attempt resumed here
        from a dead process holds that process's run until it marks itself running, and must
        not be taken for one another process took over.)"""
        while True:
            await asyncio.sleep(CANCEL_POLL_S)
            if not self._running:
                continue
            keys = [attempt_key_of(workflow_id) for workflow_id in list(self._running)]
            try:
                cancelled = await asyncio.to_thread(self._cancelled, keys)
            except Exception:  # a database hiccup: look again next time
                logging.getLogger(__name__).warning("could not read attempts", exc_info=True)
                continue
            for key in cancelled:
                self.cancel_here(attempt_workflow_id(key))

    def _cancelled(self, keys: list[AttemptKey]) -> list[AttemptKey]:
        return self.db.transaction(
            partial(_cancelled_attempts, keys=keys), what="reading attempts", read=True
        )


def _cancelled_attempts(session: Session, *, keys: list[AttemptKey]) -> list[AttemptKey]:
    return StepRunRepository(session).cancelled(keys)
