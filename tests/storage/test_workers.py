import time
import uuid

from sqlalchemy import update

from accord.storage.repositories.workers import WorkerRepository
from accord.storage.tables import workers


def test_register_heartbeat_and_find_stale_workers(db):
    alive, dead = f"exec-{uuid.uuid4().hex[:8]}", f"exec-{uuid.uuid4().hex[:8]}"
    with db.session() as s:
        repo = WorkerRepository(s)
        repo.register(executor_id=alive, hostname="h1", pid=100, role="worker")
        repo.register(executor_id=dead, hostname="h2", pid=200, role="worker")
        # The dead one last beat a minute ago.
        s.execute(
            update(workers)
            .where(workers.c.executor_id == dead)
            .values(heartbeat_at=time.time() - 60)
        )
    with db.session() as s:
        repo = WorkerRepository(s)
        assert repo.heartbeat(alive)
        stale = [w.executor_id for w in repo.list_stale(older_than_seconds=30)]
        assert dead in stale and alive not in stale
        # A restart under the same executor ID refreshes the row instead of failing.
        again = repo.register(executor_id=dead, hostname="h2", pid=201, role="worker")
        assert again.pid == 201
        assert dead not in [w.executor_id for w in repo.list_stale(older_than_seconds=30)]
        assert {w.executor_id for w in repo.list()} >= {alive, dead}


def test_a_dead_worker_goes_to_one_claimant_and_a_retired_one_at_once(db):
    dead, retired = f"exec-{uuid.uuid4().hex[:8]}", f"exec-{uuid.uuid4().hex[:8]}"
    with db.session() as s:
        repo = WorkerRepository(s)
        repo.register(executor_id=dead, hostname="h", pid=1, role="worker")
        repo.register(executor_id=retired, hostname="h", pid=2, role="worker")
        s.execute(
            update(workers)
            .where(workers.c.executor_id == dead)
            .values(heartbeat_at=time.time() - 60)
        )
        # A clean stop marks the process stale at once: its leftovers need not wait 30 s.
        repo.retire(retired)
    with db.session() as s:
        first = WorkerRepository(s).claim_stale(older_than_seconds=30)
    with db.session() as s:
        second = WorkerRepository(s).claim_stale(older_than_seconds=30)
    assert {dead, retired} <= set(first)
    assert not {dead, retired} & set(second)
    with db.session() as s:
        # A claimed process that was only slow learns it at its next heartbeat.
        assert not WorkerRepository(s).heartbeat(dead)
