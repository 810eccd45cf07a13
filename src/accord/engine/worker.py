"""A worker process's life: run step attempts from the shared queue until told to stop."""

import asyncio
import signal
from collections.abc import Callable

from accord.engine.service import Engine


async def work_until_stopped(engine: Engine, *, on_ready: Callable[[], None] | None = None) -> None:
    """Start the engine, serve the queue until SIGINT or SIGTERM, then stop cleanly: attempts
    cut short are left to DBOS and the reaper, which hand them to another process at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    try:
        if on_ready is not None:
            on_ready()
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await engine.stop()
