"""Waiting on executions: tasks woken when an execution changes (it ended, paused, resumed),
and each execution's deadline (`maxExecutionTime`)."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

from accord.domain.execution import WorkflowExecution
from accord.engine.engine_loop import EngineLoop
from accord.engine.execution_facts import started_at


class Waiters:
    """Tasks, on any event loop, waiting for news of an execution."""

    def __init__(self) -> None:
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._waiters_lock = threading.Lock()

    def notify(self, execution_id: str) -> None:
        with self._waiters_lock:
            waiters = list(self._waiters.get(execution_id, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    @contextlib.contextmanager
    def listening(self, execution_id: str) -> Iterator[asyncio.Event]:
        """An event set at each `notify` of the execution while the block runs."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._waiters_lock:
            self._waiters.setdefault(execution_id, []).append(entry)
        try:
            yield event
        finally:
            with self._waiters_lock:
                self._waiters[execution_id].remove(entry)
                if not self._waiters[execution_id]:
                    del self._waiters[execution_id]


class Deadlines:
    """Fail an execution when its maxExecutionTime passes, even mid-attempt."""

    def __init__(self, loop: EngineLoop, expire: Callable[[str], Awaitable[None]]) -> None:
        self._loop = loop
        self._expire = expire
        self._deadlines: dict[str, asyncio.TimerHandle] = {}

    def arm(self, execution: WorkflowExecution) -> None:
        """Fail the execution when its maxExecutionTime passes, even mid-attempt."""
        limit = (
            execution.definition.get("configuration", {})
            .get("constraints", {})
            .get("maxExecutionTime")
        )
        loop = self._loop.loop
        if limit is None or loop is None or execution.id in self._deadlines:
            return
        delay = started_at(execution) + limit - time.time() + 0.05  # seconds

        def fire() -> None:
            self._deadlines.pop(execution.id, None)
            asyncio.ensure_future(self._expire(execution.id))

        self._deadlines[execution.id] = loop.call_later(max(0.0, delay), fire)

    def cancel_all(self) -> None:
        for handle in self._deadlines.values():
            handle.cancel()
        self._deadlines.clear()
