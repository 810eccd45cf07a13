"""`ctx.durable`: an attempt's model and tool calls as DBOS steps, and what a database fault
met in one of them does (it suspends the attempt instead of failing its step)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from dbos import DBOS
from dbos import error as dbos_errors

from accord.storage.faults import is_disk_full, is_transient

T = TypeVar("T")


class AttemptSuspended(dbos_errors.DBOSWorkflowCancelledError):
    """An attempt met a database fault and stopped, its workflow cancelled so that it can be
    resumed (see `Attempts._suspend`): DBOS records no outcome for it, nor for the call it was
    in, and replays what it had recorded when the reconciler resumes it."""


def is_database_fault(exc: BaseException) -> bool:
    return is_transient(exc) or is_disk_full(exc)


class RecordedCalls:
    """`ctx.durable`: each call is a DBOS step, recorded once and replayed after a crash."""

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        async def step() -> T:  # DBOS must see a coroutine function to await it
            try:
                return await fn()
            except Exception as exc:
                if is_database_fault(exc):
                    # Not recorded (DBOS records no outcome for a cancelled step): the call
                    # is made again when the attempt resumes, not replayed as a failure.
                    raise AttemptSuspended(f"call {name} met a database fault") from exc
                raise

        return await DBOS.run_step_async({"name": name}, step)
