"""Heartbeats and the reaper: the step attempts of a process that died resume in another.

DBOS recovers only an executor's own workflows, when that executor starts again. A worker
killed for good would leave its attempts pending forever, so every engine heartbeats into
the `workers` table and watches the others' heartbeats. A process silent for longer than
`stale_s` is presumed dead; the first engine to claim it (`WorkerRepository.claim_stale`)
hands its work on through `resume`. A process that was only slow finds its row gone at its
next heartbeat and registers again; what it finishes late is refused by the runner, which
records an attempt's outcome only for the process that holds it.

Timing, for a bound F (`failover_s`, 30 s by default): a heartbeat every F/6, presumed dead
after 2F/3 of silence, checked every F/6; so an attempt resumes at most about 5F/6 after its
process died, and the rest of F covers the queue's pick-up.
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from accord.domain.errors import AccordError
from accord.storage.db import Database
from accord.storage.repositories.workers import WorkerRepository, WorkerRole
from accord.telemetry import metrics

FAILOVER_ENV = "ACCORD_FAILOVER_SECONDS"
DEFAULT_FAILOVER_S = 30.0

log = logging.getLogger(__name__)


def failover_seconds() -> float:
    """The configured failover bound (`ACCORD_FAILOVER_SECONDS`, else 30 s)."""
    raw = os.environ.get(FAILOVER_ENV)
    if raw is None:
        return DEFAULT_FAILOVER_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise AccordError(f"{FAILOVER_ENV} must be a positive number of seconds, not {raw!r}")
    return value


def state_of(heartbeat_at: float, *, now: float, failover_s: float) -> str:
    """How a process looks to the others: `alive`, `stopped` (retired by a clean stop) or
    `silent` (no heartbeat for two thirds of the failover time: presumed dead, its work
    about to be handed on)."""
    if heartbeat_at == 0:
        return "stopped"
    return "alive" if now - heartbeat_at < failover_s * 2 / 3 else "silent"


class Liveness:
    """One process's heartbeat, and its watch over the others."""

    def __init__(
        self,
        db: Database,
        *,
        executor_id: str,
        role: WorkerRole,
        failover_s: float,
        resume: Callable[[list[str]], Awaitable[None]],
    ) -> None:
        self.db = db
        self.executor_id = executor_id
        self.role = role
        self.interval_s = failover_s / 6
        self.stale_s = failover_s * 2 / 3
        self._resume = resume
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self._register)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._retire)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await asyncio.to_thread(self._beat)
                dead = await asyncio.to_thread(self._claim_dead)
                if dead:
                    log.warning("resuming the work of stopped or silent processes: %s", dead)
                    await self._resume(dead)
            except Exception:  # a database hiccup must not end the heartbeat for good
                log.exception("heartbeat or reaper round failed; trying again")

    def _register(self) -> None:
        with self.db.session() as s:
            WorkerRepository(s).register(
                executor_id=self.executor_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                role=self.role,
            )
        metrics.heartbeat(self.role)  # registering is the first heartbeat

    def _beat(self) -> None:
        with self.db.session() as s:
            alive = WorkerRepository(s).heartbeat(self.executor_id)
        metrics.heartbeat(self.role)
        if not alive:
            log.warning(
                "this process (%s) was presumed dead and its attempts handed on; "
                "it goes on with new work",
                self.executor_id,
            )
            self._register()

    def _claim_dead(self) -> list[str]:
        with self.db.session() as s:
            return WorkerRepository(s).claim_stale(older_than_seconds=self.stale_s)

    def _retire(self) -> None:
        with self.db.session() as s:
            WorkerRepository(s).retire(self.executor_id)
