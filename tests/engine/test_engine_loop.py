"""Follow-up work handed to the engine's loop (children to end, dependents to start, traces)
runs outside the context of the attempt that handed it over."""

import asyncio
import contextvars

from accord.engine.engine_loop import EngineLoop

# Stands for DBOS's own context variable, which holds the workflow running in a context.
running_workflow: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "running_workflow", default=None
)


async def test_follow_up_work_does_not_inherit_the_attempts_context() -> None:
    engine_loop = EngineLoop()
    engine_loop.loop = asyncio.get_running_loop()
    seen: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    async def start_dependents() -> None:
        seen.set_result(running_workflow.get())

    def inside_an_attempt() -> None:
        running_workflow.set("execution:step:1")
        engine_loop.soon(start_dependents)

    await asyncio.to_thread(inside_an_attempt)  # as DBOS's loop thread hands work over

    assert await asyncio.wait_for(seen, 5) is None
