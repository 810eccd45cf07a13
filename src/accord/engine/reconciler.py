"""The reconciler: every process puts right the attempts whose DBOS record and step run
disagree, so that no execution waits for an attempt nothing runs.

Each attempt is a DBOS workflow, and its step run says how it stands in our tables. They can
part ways when the database faults mid-attempt: an attempt that meets a lost connection, a
restarting database or a full disk cancels its own workflow and stops (see
`Attempts._suspend`); DBOS's record of it then says CANCELLED while the step run still says
running. A dispatch lost in a fault leaves a pending run that DBOS has never seen; a bug
that raised out of an attempt leaves an ERROR. Every `interval_s` (a sixth of the failover
time), each process reads the unsettled runs and DBOS's record of each (`DBOS.list_workflows`)
and decides, by `verdict`:

- CANCELLED while the run is in flight: resume the workflow. DBOS replays what it recorded
  (model and tool calls are not made again) and the same attempt goes on: a database fault
  never uses up one of the step's retries.
- ERROR (or out of recovery attempts), or SUCCESS without an outcome: fail the attempt, with
  a reason, and let the step's retries decide, as for any failed attempt.
- no record at all, after `grace_s`: dispatch the attempt (a start is idempotent).

The decision is a pure function; `recovery.Recovery` does what it says, under the execution's
lock, so two processes never resume one workflow twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from accord.domain.enums import StepRunStatus
from accord.storage.faults import describe

log = logging.getLogger(__name__)

Action = Literal["resume", "fail", "dispatch"]

SETTLE_S = 1.0
"""How long a workflow's record must have stood still before it is acted on: an attempt that
has just cancelled itself is still unwinding."""

ENDED_IN_ERROR = ("ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


@dataclass(frozen=True)
class Record:
    """What DBOS says of an attempt's workflow: its status and when it last changed."""

    status: str
    updated_at: float


def verdict(
    run_status: StepRunStatus,
    record: Record | None,
    *,
    now: float,
    run_since: float,
    grace_s: float,
) -> Action | None:
    """What to do with an unsettled attempt (pending or running, its execution not ended)."""
    if run_status not in (StepRunStatus.PENDING, StepRunStatus.RUNNING):
        return None
    if record is None:
        return "dispatch" if now - run_since >= grace_s else None
    settled = now - record.updated_at >= SETTLE_S
    if record.status == "CANCELLED":
        return "resume" if settled else None
    if record.status in ENDED_IN_ERROR:
        return "fail" if settled else None
    if record.status == "SUCCESS":
        return "fail" if now - record.updated_at >= grace_s else None
    return None  # pending, enqueued or delayed: running somewhere, or about to


class Reconciler:
    """A loop that runs `round` every `interval_s`, and at once when `soon` is called."""

    def __init__(self, round: Callable[[], Awaitable[object]], *, interval_s: float) -> None:
        self._round = round
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def soon(self) -> None:
        """Run a round now (call on the engine's loop)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._round()
            except Exception as exc:  # the database is still away, say: the next round tries
                log.warning("a reconciler round failed (%s); trying again", describe(exc))
