"""Issue 17 item 1: database faults are not step failures.

Real faults on real databases: Postgres connections killed (`pg_terminate_backend`) and the
Postgres server restarted (`pg_ctlcluster ... restart`) at random moments during 16-wide
waves, SQLite held busy past its timeout, a SQLite file that cannot grow (`PRAGMA
max_page_count`, the unprivileged way to fill a disk), and an attempt wedged by hand (DBOS's
record ended, the step run still running). Every execution must complete with one attempt
per step, none charged to the fault, or stop with one clear message.
"""

import asyncio
import random
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID

import accord.storage.db as storage_db
from accord.domain.enums import StepRunStatus
from accord.engine.attempt_keys import attempt_workflow_id
from accord.engine.reconciler import Record, verdict
from accord.engine.runner import ExecutionRunner
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.faults import StorageFull, as_user_error, is_disk_full, is_transient
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.testing import DEFAULT_ADMIN_URL

from .conftest import add_agents, add_workflow, start_and_mark, steps

WIDTH = 16


def wave(db: Database, user_id: str, team: list[str]) -> str:
    """plan -> 16 steps at once -> merge."""
    middle = [f"w{i}" for i in range(WIDTH)]
    return add_workflow(
        db,
        user_id,
        team,
        [*steps("plan"), *steps(*middle, dependsOn=["plan"]), *steps("merge", dependsOn=middle)],
        workflow_type="parallel",
        maxConcurrency=WIDTH,
    )


def new_user(db: Database) -> str:
    with db.session() as s:
        return UserRepository(s).create(email=f"{uuid.uuid4().hex[:8]}@x.test", display_name="F").id


def attempts_by_step(db: Database, execution_id: str) -> dict[str, list[StepRunStatus]]:
    with db.session() as s:
        runs = StepRunRepository(s).list(execution_id)
    out: dict[str, list[StepRunStatus]] = {}
    for run in sorted(runs, key=lambda r: r.attempt):
        out.setdefault(run.step_id, []).append(run.status)
    return out


def make_engine(db: Database, tmp_path: Path, performer: LatencyPerformer, **kw: Any) -> Engine:
    return Engine(
        db,
        performer,
        executor_id=f"faults-{uuid.uuid4().hex[:8]}",
        backoff_base_s=0.01,
        state_dir=tmp_path,
        failover_s=3.0,
        **kw,
    )


async def outcomes_recorded(*execution_ids: str) -> None:
    """Until DBOS has recorded the outcome of every attempt of these executions: a workflow
    still writing when the engine stops goes on trying after the test's database is gone."""
    for _ in range(300):
        pending = await DBOS.list_workflows_async(
            workflow_id_prefix=[f"{e}:" for e in execution_ids],
            status=["PENDING", "ENQUEUED"],
            load_input=False,
            load_output=False,
        )
        if not pending:
            return
        await asyncio.sleep(0.1)


# --- the decision, without I/O --------------------------------------------------------------


def test_verdict_resumes_cancelled_fails_errored_and_redispatches_lost_attempts() -> None:
    running, pending = StepRunStatus.RUNNING, StepRunStatus.PENDING
    now = 1000.0

    def v(status: StepRunStatus, record: Record | None, since: float = 0.0) -> str | None:
        return verdict(status, record, now=now, run_since=since, grace_s=10.0)

    assert v(running, Record("CANCELLED", now - 5)) == "resume"
    assert v(running, Record("CANCELLED", now - 0.1)) is None  # still unwinding
    assert v(running, Record("ERROR", now - 5)) == "fail"
    assert v(pending, Record("MAX_RECOVERY_ATTEMPTS_EXCEEDED", now - 5)) == "fail"
    assert v(running, Record("PENDING", now - 500)) is None  # running somewhere
    assert v(running, Record("ENQUEUED", now - 500)) is None
    assert v(running, Record("SUCCESS", now - 5)) is None  # its outcome may be committing
    assert v(running, Record("SUCCESS", now - 50)) == "fail"
    assert v(pending, None, since=now - 50) == "dispatch"
    assert v(pending, None, since=now - 1) is None  # its dispatch may be under way
    assert v(StepRunStatus.COMPLETED, Record("ERROR", 0)) is None


def test_real_database_errors_are_classified(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    with pytest.raises(sa.exc.OperationalError) as locked, engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES ('a')"))
    holder.execute("ROLLBACK")
    assert is_transient(locked.value) and not is_disk_full(locked.value)

    capped = sa.create_engine(f"sqlite:///{path}")
    sa.event.listen(
        capped, "connect", lambda c, _: c.execute("PRAGMA max_page_count = 3")
    )  # the file may not grow past three pages
    with pytest.raises(sa.exc.OperationalError) as full, capped.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": "y" * 100_000})
    assert is_disk_full(full.value) and not is_transient(full.value)
    message = as_user_error(full.value, f"sqlite:///{path}")
    assert isinstance(message, StorageFull)
    assert str(path) in message.message and "free" in message.message
    assert "INSERT" not in message.message  # never SQL
    assert as_user_error(ValueError("x"), "sqlite://") is None
    engine.dispose()
    capped.dispose()


# --- a wedged attempt -----------------------------------------------------------------------


@DBOS.workflow(name="accord_test_wedge")
async def _wedge() -> None:
    raise RuntimeError("a bug that escaped the attempt")


async def test_an_attempt_whose_workflow_errored_is_failed_and_retried(
    db: Database, user_id: str, tmp_path: Path
) -> None:
    """Wedged by hand: DBOS's record of the attempt says ERROR, its step run says running.
    The reconciler fails that attempt (a bug, not a database fault: the step's retries
    decide) and the next attempt completes the execution, with no restart."""
    team = add_agents(db, user_id, ["developer"])
    workflow_id = add_workflow(db, user_id, team, steps("only", maxRetries=1))
    engine = make_engine(db, tmp_path, LatencyPerformer())
    await engine.start()
    try:
        # Started and marked running outside the engine, then recorded by DBOS as errored.
        runner = ExecutionRunner(db, executor_id="a-process-that-died")
        execution, key = start_and_mark(
            runner, db, workflow_id=workflow_id, user_id=user_id, agent_id=team[0]
        )
        with SetWorkflowID(attempt_workflow_id(key)):
            handle = await DBOS.start_workflow_async(_wedge)
        with pytest.raises(RuntimeError):
            await handle.get_result()
        ended = await engine.wait(execution.id, timeout=20)
        await outcomes_recorded(execution.id)
    finally:
        await engine.stop()
    assert ended.status == "completed", ended.error_message
    assert attempts_by_step(db, execution.id) == {"only": ["failed", "completed"]}


async def test_an_attempt_cancelled_mid_run_is_resumed_without_a_retry(
    db: Database, user_id: str, tmp_path: Path
) -> None:
    """An attempt whose workflow was cancelled while its run stays running (what an attempt
    that meets a database fault does to itself) is resumed: the same attempt completes, its
    recorded call replayed, and the step's retries are untouched."""
    team = add_agents(db, user_id, ["developer"])
    workflow_id = add_workflow(db, user_id, team, steps("slow", maxRetries=0))
    performer = LatencyPerformer(hang={"slow": 1.0})
    engine = make_engine(db, tmp_path, performer)
    await engine.start()
    try:
        execution = await engine.start_execution(workflow_id, user_id)
        key = (execution.id, "slow", 1)
        await asyncio.sleep(0.4)  # marked running, in its call
        await DBOS.cancel_workflow_async(attempt_workflow_id(key))
        ended = await engine.wait(execution.id, timeout=30)
        # Its outcome is recorded just after the run's (waited for: a workflow still writing
        # when the engine stops goes on trying after the test's database is gone).
        for _ in range(300):
            record = await DBOS.get_workflow_status_async(attempt_workflow_id(key))
            if record is not None and record.status != "PENDING":
                break
            await asyncio.sleep(0.1)
    finally:
        await engine.stop()
    assert ended.status == "completed", ended.error_message
    assert attempts_by_step(db, execution.id) == {"slow": ["completed"]}
    assert record is not None and record.status == "SUCCESS"  # resumed, and it finished


# --- SQLite busy and full -------------------------------------------------------------------


async def test_sqlite_held_busy_past_its_timeout_charges_no_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program holds the database's write lock for longer than the busy timeout, three
    times during a wave: Accord waits and goes on, one attempt per step."""
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "accord.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    user_id = new_user(db)
    team = add_agents(db, user_id, ["developer", "reviewer"])
    workflow_id = wave(db, user_id, team)
    engine = make_engine(db, tmp_path, LatencyPerformer(latency_s=0.1))
    await engine.start()
    try:
        execution = await engine.start_execution(workflow_id, user_id)
        holder = sqlite3.connect(path, isolation_level=None, timeout=30)
        for _ in range(3):
            await asyncio.sleep(0.3)
            holder.execute("BEGIN IMMEDIATE")
            await asyncio.sleep(1.0)  # five busy timeouts
            holder.execute("COMMIT")
        holder.close()
        ended = await engine.wait(execution.id, timeout=60)
    finally:
        await engine.stop()
        db.dispose()
    assert ended.status == "completed", ended.error_message
    runs = attempts_by_step(Database(f"sqlite:///{path}"), execution.id)
    assert len(runs) == WIDTH + 2
    assert all(statuses == ["completed"] for statuses in runs.values()), runs


async def test_a_full_sqlite_file_stops_the_run_with_one_message_and_resumes_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "accord.db"
    url = f"sqlite:///{path}"
    setup = Database(url)
    setup.upgrade()
    user_id = new_user(setup)
    team = add_agents(setup, user_id, ["developer", "reviewer"])
    workflow_id = wave(setup, user_id, team)
    setup.dispose()

    full = Database(url)
    # Room for the execution's start and a few steps, not for the whole wave.
    pages = path.stat().st_size // 4096 + 4
    sa.event.listen(
        full.engine, "connect", lambda c, _: c.execute(f"PRAGMA max_page_count = {pages}")
    )
    engine = make_engine(full, tmp_path, LatencyPerformer(latency_s=0.05))
    await engine.start()
    execution_id = ""
    try:
        execution = await engine.start_execution(workflow_id, user_id)
        execution_id = execution.id
        with pytest.raises(StorageFull) as stopped:
            await engine.wait(execution.id, timeout=60)  # never hangs
    finally:
        await engine.stop()
        full.dispose()
    assert str(path) in stopped.value.message
    assert "free on that disk" in stopped.value.message

    # Space freed (no cap): a new engine resumes the execution where it stopped.
    db = Database(url)
    engine = make_engine(db, tmp_path, LatencyPerformer(latency_s=0.05))
    await engine.start()
    try:
        ended = await engine.wait(execution_id, timeout=60)
    finally:
        await engine.stop()
    assert ended.status == "completed", ended.error_message
    runs = attempts_by_step(db, execution_id)
    assert all(statuses == ["completed"] for statuses in runs.values()), runs
    db.dispose()


# --- Postgres connections killed during waves -----------------------------------------------

FAULTS = 10
EXECUTIONS = 3


def _terminate(admin: sa.Engine, database: str) -> int:
    """Kill every connection to `database` (this test's own), as a failover or an operator
    would; returns how many there were."""
    with admin.connect() as conn:
        return len(
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).all()
        )


PG_VERSION = next(iter(sorted(p.name for p in Path("/etc/postgresql").glob("*"))), "15")


def _restart(admin: sa.Engine, database: str) -> int:
    """Restart the whole Postgres server, as an upgrade or a failover does: every connection
    drops and none is accepted until it is back; returns how many connections it cut."""
    cut = _terminate(admin, database)  # counted first: the restart ends them anyway
    admin.dispose()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cut


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("inject", "faults"), [(_terminate, FAULTS), (_restart, 3)], ids=["terminate", "restart"]
)
async def test_postgres_faults_during_waves_charge_no_step(
    fresh_postgres_url: str, tmp_path: Path, inject: Any, faults: int
) -> None:
    db = Database(fresh_postgres_url)
    db.upgrade()
    user_id = new_user(db)
    team = add_agents(db, user_id, ["developer", "reviewer"])
    workflows = [wave(db, user_id, team) for _ in range(EXECUTIONS)]
    admin = sa.create_engine(DEFAULT_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = fresh_postgres_url.rsplit("/", 1)[1]
    rng = random.Random()
    engine = make_engine(db, tmp_path, LatencyPerformer(latency_s=0.2))
    await engine.start()
    killed = 0
    try:
        ids = [(await engine.start_execution(w, user_id)).id for w in workflows]
        started = time.monotonic()
        for _ in range(faults):
            await asyncio.sleep(rng.uniform(0.1, 0.6))
            killed += await asyncio.to_thread(inject, admin, name)
        ended = [await engine.wait(i, timeout=120) for i in ids]
        took = time.monotonic() - started
        await outcomes_recorded(*ids)
    finally:
        await engine.stop()
        admin.dispose()
    print(
        f"\n{faults} faults ({killed} connections killed), {len(ended)} executions in {took:.1f} s"
    )
    assert killed >= faults  # every fault hit live connections
    assert [e.status for e in ended] == ["completed"] * EXECUTIONS, [e.error_message for e in ended]
    charged = 0
    for execution in ended:
        runs = attempts_by_step(db, execution.id)
        assert len(runs) == WIDTH + 2
        charged += sum(len(statuses) - 1 for statuses in runs.values())
        assert all(statuses == ["completed"] for statuses in runs.values()), runs
    assert charged == 0
    db.dispose()
