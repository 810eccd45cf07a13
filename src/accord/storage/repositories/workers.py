"""Live processes (`serve`, `worker`, `run`), known by their DBOS executor ID.

DBOS recovers only the executor's own workflows, so each process heartbeats here and a reaper
resumes the pending work of those whose heartbeat has gone stale.
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.storage.repositories._convert import affected_rows
from accord.storage.tables import workers

WorkerRole = Literal["serve", "worker", "run"]


@dataclass(frozen=True)
class Worker:
    executor_id: str
    hostname: str
    pid: int
    role: WorkerRole
    started_at: float
    heartbeat_at: float


def _worker(row: Row[Any]) -> Worker:
    return Worker(
        executor_id=row.executor_id,
        hostname=row.hostname,
        pid=row.pid,
        role=row.role,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
    )


class WorkerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def register(self, *, executor_id: str, hostname: str, pid: int, role: WorkerRole) -> Worker:
        """Announce a process; registering an executor ID again (a restart) refreshes it."""
        now = time.time()
        values = {
            "hostname": hostname,
            "pid": pid,
            "role": role,
            "started_at": now,
            "heartbeat_at": now,
        }
        updated = self.session.execute(
            update(workers).where(workers.c.executor_id == executor_id).values(**values)
        )
        if affected_rows(updated) == 0:
            self.session.execute(insert(workers).values(executor_id=executor_id, **values))
        return Worker(
            executor_id=executor_id,
            hostname=hostname,
            pid=pid,
            role=role,
            started_at=now,
            heartbeat_at=now,
        )

    def heartbeat(self, executor_id: str) -> bool:
        """Record that the process is alive; False if it was unregistered (reaped) meanwhile."""
        result = self.session.execute(
            update(workers)
            .where(workers.c.executor_id == executor_id)
            .values(heartbeat_at=time.time())
        )
        return affected_rows(result) > 0

    def list(self) -> builtins.list[Worker]:
        rows = self.session.execute(select(workers).order_by(workers.c.started_at))
        return [_worker(r) for r in rows]

    def list_stale(self, *, older_than_seconds: float) -> builtins.list[Worker]:
        """Processes whose last heartbeat is older than the threshold: presumed dead."""
        cutoff = time.time() - older_than_seconds
        rows = self.session.execute(
            select(workers).where(workers.c.heartbeat_at < cutoff).order_by(workers.c.heartbeat_at)
        )
        return [_worker(r) for r in rows]

    def claim_stale(self, *, older_than_seconds: float) -> builtins.list[str]:
        """Forget the processes presumed dead and return their executor IDs, to resume their
        work. Of several processes claiming at once, each dead one goes to exactly one: the
        delete re-checks staleness, and only the claimant's delete finds the row."""
        cutoff = time.time() - older_than_seconds
        claimed = []
        for worker in self.list_stale(older_than_seconds=older_than_seconds):
            gone = self.session.execute(
                delete(workers).where(
                    workers.c.executor_id == worker.executor_id,
                    workers.c.heartbeat_at < cutoff,
                )
            )
            if affected_rows(gone) == 1:
                claimed.append(worker.executor_id)
        return claimed

    def retire(self, executor_id: str) -> None:
        """A process stopping: mark it stale at once, so another resumes anything it left
        unfinished without waiting for the heartbeat to age."""
        self.session.execute(
            update(workers).where(workers.c.executor_id == executor_id).values(heartbeat_at=0.0)
        )
