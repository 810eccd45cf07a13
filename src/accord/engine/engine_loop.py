"""The event loop the engine started on. Recovered attempts may run on DBOS's own event loop
thread, so what they hand to the engine (dispatches, deadlines, follow-up work) reaches its
loop through here, thread-safe."""

import asyncio
from collections.abc import Awaitable, Callable


class EngineLoop:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        """Set while the engine runs."""

    def soon(self, make: Callable[[], Awaitable[None]]) -> None:
        """Run `make()` on the engine's loop, from whichever thread calls (recovered attempts
        run on DBOS's own loop)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(make()))
