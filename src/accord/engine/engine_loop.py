"""The event loop the engine started on. Recovered attempts may run on DBOS's own event loop
thread, so what they hand to the engine (dispatches, deadlines, follow-up work) reaches its
loop through here, thread-safe."""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable


class EngineLoop:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        """Set while the engine runs."""

    def soon(self, make: Callable[[], Awaitable[None]]) -> None:
        """Run `make()` on the engine's loop, from whichever thread calls (recovered attempts
        run on DBOS's own loop), in a fresh context: DBOS keeps the running workflow in a
        context variable, so work handed over from inside an attempt would otherwise be taken
        for that attempt's own (a dependent workflow's start became its child, and failed as
        "no longer owned by this execution" once the attempt had ended)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(
            lambda: asyncio.ensure_future(make()), context=contextvars.Context()
        )
