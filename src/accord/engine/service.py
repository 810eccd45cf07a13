"""The engine facade: durable step attempts on DBOS around the runner's transactions.

Each step attempt is a DBOS workflow with the ID `execution:step:attempt`, so starting it
twice is harmless and a crash resumes it. Every `ctx.durable.call` (a model or tool call) and
every child start is a DBOS step, recorded once, so a replay never repeats a finished call.
The runner's own transactions (begin, finish) are idempotent on our tables instead of being
recorded: a replay finds the run already running or ended. After an attempt's outcome is
committed the execution is advanced in the same transaction, and the attempts it queued are
dispatched.
On start, DBOS recovers this executor's pending attempts and `Engine` advances every
unfinished execution, which dispatches attempts queued but never started before a crash.

Two ways to run attempts. Embedded (the default): this process starts them itself, at once.
Distributed (`AttemptQueue`, on Postgres): attempts go onto a DBOS queue that `accord worker`
processes take them from, within a global and a per-worker concurrency limit; any process
may then advance the execution and queue the next ones. A child execution's attempts (a
delegated sub-task, a sub-workflow) run in the process of the attempt waiting for it, within
that attempt's place in the limits, not from the queue (see `_dispatch_loop`). Either way
every process heartbeats, and a process that stops heartbeating has its attempts resumed by
another (`liveness`).

One `Engine` runs per process (DBOS is a process-wide singleton). Recovered attempts may run
on DBOS's own event loop thread, so the engine's notifications are thread-safe.
"""

import asyncio
import contextlib
import contextvars
import fcntl
import gc
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Queue, Serializer, SetWorkflowID
from dbos._error import DBOSAwaitedWorkflowCancelledError, DBOSWorkflowCancelledError
from sqlalchemy.orm import Session

from accord.domain.approval import ToolApproval
from accord.domain.enums import ExecutionStatus, StepRunStatus, TriggerReason, WorkflowType
from accord.domain.errors import AccordError, IllegalTransition
from accord.domain.execution import WorkflowExecution
from accord.domain.plan import WorkflowPlan
from accord.domain.ports import AttemptContext, AttemptOutcome, ChildResult, StepPerformer
from accord.domain.step_result import StepResult
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.domain.workflow import WorkflowConfiguration, WorkflowStep
from accord.engine import approvals
from accord.engine.approvals import AttemptApprovals
from accord.engine.liveness import Liveness, failover_seconds
from accord.engine.notifier import Notifier
from accord.engine.queue import ATTEMPT_QUEUE, EXECUTOR_ID_ENV, AttemptQueue
from accord.engine.reconciler import Reconciler, Record, verdict
from accord.engine.runner import (
    AdvanceResult,
    AttemptKey,
    AttemptStart,
    ExecutionRunner,
    attempt_workflow_id,
    started_at,
)
from accord.engine.triggers import Triggers
from accord.storage.db import Database, data_dir, sqlite_path
from accord.storage.faults import (
    StorageFull,
    describe,
    is_disk_full,
    is_transient,
    storage_full,
)
from accord.storage.permissions import private_file
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workers import WorkerRole
from accord.telemetry import attempts as observed
from accord.telemetry import tracing

T = TypeVar("T")
Item = TypeVar("Item")
Result = TypeVar("Result")

APPLICATION_VERSION = "accord-engine-1"
"""Pinned: recovery only resumes workflows of the same version, and ours are stable by name."""
CHILD_POLL_S = 0.5
SETTLE_AFTER_S = 1.2
"""After an attempt suspends itself, when to look at it again (past the reconciler's
`SETTLE_S`)."""
"""How often a parent re-reads its child when no in-process notification arrives (a child
finished by another process, or before a restart)."""

_active: "Engine | None" = None


class _QuietCancellations(logging.Filter):
    """DBOS logs a traceback, as an error, for each attempt that finds out at a recorded call
    that another process cancelled it (its execution was cancelled or ended); that is how an
    attempt running here learns of a cancel from the server, not a failure. Its one-line
    warning ("was cancelled during execution") stays."""

    stopping = False
    """Set while the engine stops: attempts cut short then (one waiting for the outcome of
    its resumed self, say) are resumed by the next start, and DBOS's tracebacks about them
    are noise on a terminal whose command succeeded."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and self.stopping:
            return False
        return not isinstance(error, (DBOSAwaitedWorkflowCancelledError, AttemptSuspended))


_QUIET_CANCELLATIONS = _QuietCancellations()


class JsonSerializer(Serializer):
    """DBOS records our workflow inputs and step outputs as plain JSON, never pickle."""

    def serialize(self, data: Any) -> str:
        return json.dumps(data, separators=(",", ":"), default=_jsonable)

    def deserialize(self, serialized_data: str) -> Any:
        return json.loads(serialized_data)

    def name(self) -> str:
        return "accord_json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):  # a schedule's tick time
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class AttemptSuspended(DBOSWorkflowCancelledError):
    """An attempt met a database fault and stopped, its workflow cancelled so that it can be
    resumed (see `Engine._suspend`): DBOS records no outcome for it, nor for the call it was
    in, and replays what it had recorded when the reconciler resumes it."""


def is_database_fault(exc: BaseException) -> bool:
    return is_transient(exc) or is_disk_full(exc)


@DBOS.workflow(name="accord_step_attempt")
async def _step_attempt(execution_id: str, step_id: str, attempt: int) -> None:
    if _active is None:
        raise RuntimeError("no Accord engine is running in this process")
    await _active._run_attempt((execution_id, step_id, attempt))


class Engine:
    """Start, advance, pause, resume, cancel and rerun executions; used by server, CLI, tests."""

    def __init__(
        self,
        db: Database,
        performer: StepPerformer,
        *,
        executor_id: str | None = None,
        backoff_base_s: float = 1.0,
        system_database_url: str | None = None,
        state_dir: Path | None = None,
        queue: AttemptQueue | None = None,
        role: WorkerRole = "run",
        failover_s: float | None = None,
    ) -> None:
        if queue is not None and db.is_sqlite:
            raise AccordError(
                "distributed mode (worker processes and a shared queue) needs Postgres: set "
                "ACCORD_DATABASE_URL to a postgresql:// URL; on SQLite one process runs "
                "everything (accord serve, accord run)"
            )
        self.db = db
        self.performer = performer
        self.queue = queue
        # DBOS state belongs with the database it drives: next to a SQLite file by default,
        # named after it, so two databases never share recovery state or an executor ID.
        db_file = sqlite_path(db.url)
        self._state_dir = state_dir or (db_file.parent if db_file else data_dir())
        self._state_name = db_file.stem if db_file else "accord"
        self._id_lock: TextIO | None = None
        self.executor_id = executor_id or os.environ.get(EXECUTOR_ID_ENV) or self._claim_id()
        self.runner = ExecutionRunner(
            db, executor_id=self.executor_id, backoff_base_s=backoff_base_s
        )
        self._system_database_url = system_database_url or system_database_url_for(db, state_dir)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dispatch_queue: asyncio.Queue[list[AttemptKey]] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._started: set[str] = set()
        self._adopted: set[str] = set()
        """Child executions an attempt in this process waits for (see `_dispatch_loop`)."""
        self._running: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._waiters_lock = threading.Lock()
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._prefetched: dict[str, AttemptStart] = {}
        self._attempts: Queue | None = None  # the DBOS queue, in distributed mode
        self._system_engine: sa.Engine | None = None  # ours to dispose: DBOS does not
        self._marks = GroupCommit(self._commit_marks)
        self._finishes = GroupCommit(self._commit_finishes)
        self.triggers = Triggers(db, self.start_triggered)
        self.notifier = Notifier(db)
        failover_s = failover_s or failover_seconds()
        self._liveness = Liveness(
            db,
            executor_id=self.executor_id,
            role=role,
            failover_s=failover_s,
            resume=self._resume_dead,
        )
        self.reconciler = Reconciler(self._reconcile, interval_s=failover_s / 6)
        self._grace_s = failover_s / 3
        self.fault: StorageFull | None = None
        """Set when the database's disk filled: `wait` raises it (a command stops cleanly;
        a server goes on, its attempts resumed once there is room)."""

    def _claim_id(self) -> str:
        """A stable executor ID per data directory, so a restart recovers its own attempts.

        Each ID is held under an exclusive lock on its file while this engine lives, so two
        processes on one database (`accord serve` beside `accord run`) never share an ID and
        never resume each other's attempts: the second takes the next free slot
        (`<name>.executor_id.2`, ...), which its own restart finds again."""
        slot = 0
        while True:
            slot += 1
            suffix = "" if slot == 1 else f".{slot}"
            path = self._state_dir / f"{self._state_name}.executor_id{suffix}"
            file = path.open("a+")  # a file object: an engine dropped unstopped frees it too
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                continue
            file.seek(0)
            stored = file.read().strip()
            if not stored:
                stored = f"accord-{uuid.uuid4().hex[:12]}"
                file.write(stored)
                file.flush()
            self._id_lock = file
            return stored

    def _release_id(self) -> None:
        if self._id_lock is not None:
            self._id_lock.close()  # closing the file releases its lock
            self._id_lock = None

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        global _active
        if _active is not None:
            raise RuntimeError("an Accord engine is already running in this process")
        tracing.configure_from_environment()
        _active = self
        self._loop = asyncio.get_running_loop()
        config: DBOSConfig = {
            "name": "accord",
            "system_database_url": self._system_database_url,
            "application_version": APPLICATION_VERSION,
            "executor_id": self.executor_id,
            "serializer": JsonSerializer(),
            # DBOS's default. On SQLite this thread polls only for DBOS messages, events and
            # streams, none of which Accord uses (attempts wake each other through `_notify`);
            # at 10 ms it cost about 1 ms of CPU a step while calls waited.
            "notification_listener_polling_interval_sec": 1.0,
            # Every attempt hands its transactions to this pool; DBOS's default (CPUs + 4)
            # makes wide fan-outs queue for a thread.
            "max_executor_threads": 64,
            "log_level": os.environ.get("ACCORD_DBOS_LOG_LEVEL", "WARNING"),
            # How soon a process picks up a schedule made or changed elsewhere.
            "scheduler_polling_interval_sec": 5.0,
        }
        if self._system_database_url.startswith("sqlite"):
            self._system_engine = _sqlite_system_engine(self._system_database_url)
            config["system_database_engine"] = self._system_engine
        else:
            # DBOS's default (20 connections a process) runs a few workers into Postgres's
            # default max_connections (100); each attempt holds at most one at a time.
            concurrency = self.queue.worker_concurrency if self.queue else 8
            config["sys_db_pool_size"] = min(20, concurrency + 2)
        DBOS(config=config)
        _QUIET_CANCELLATIONS.stopping = False
        logging.getLogger("dbos").addFilter(_QUIET_CANCELLATIONS)
        try:
            await self._launch()
        except BaseException:
            # A full disk or a database away at start: stop what started, so the process
            # reports and exits instead of hanging on DBOS's threads.
            with contextlib.suppress(Exception):
                await self.stop()
            raise

    async def _launch(self) -> None:
        if self.queue is not None and not self.queue.run_steps:
            DBOS.listen_queues([])  # DBOS's own internal queue is always served
        await asyncio.to_thread(DBOS.launch)
        # What exists by now (modules, DBOS, SQLAlchemy's caches) lives as long as the engine:
        # frozen out of the collector's sight, it no longer makes each full collection walk
        # ~100 MB and stop every thread for 50-100 ms in the middle of attempts.
        gc.collect()
        gc.freeze()
        if self.queue is not None:
            self._attempts = await DBOS.register_queue_async(
                ATTEMPT_QUEUE,
                worker_concurrency=self.queue.worker_concurrency,
                global_concurrency=self.queue.global_concurrency,
                polling_interval_sec=self.queue.polling_s,
                on_conflict="always_update",
            )
        self._dispatcher = asyncio.create_task(self._dispatch_loop())
        self._watcher = asyncio.create_task(self._stop_cancelled_elsewhere())
        await self._recover()
        await self.triggers.start()
        await self.notifier.start()
        await self._liveness.start()
        self.reconciler.start()

    async def stop(self) -> None:
        global _active
        await self.reconciler.stop()
        await self._liveness.halt()  # a round after DBOS's threads stop would fail loudly
        for handle in self._deadlines.values():
            handle.cancel()
        self._deadlines.clear()
        await self.notifier.stop()
        await self.triggers.stop()
        for loop_task in (self._dispatcher, self._watcher):
            if loop_task is not None:
                loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop_task
        for workflow_id in list(self._running):
            self._cancel_here(workflow_id)
        _QUIET_CANCELLATIONS.stopping = True
        await asyncio.to_thread(DBOS.destroy)
        if self._system_engine is not None:
            self._system_engine.dispose()
            self._system_engine = None
        gc.unfreeze()  # what the engine held may be collected again
        # DBOS made its (now shut down) thread pool this loop's default executor.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        await asyncio.to_thread(tracing.flush)  # spans still batched leave before the process
        # Last: once retired, another process resumes whatever this one left unfinished.
        await self._liveness.stop()
        _active = None
        self._release_id()

    @property
    def running(self) -> bool:
        """Started and not stopped, its dispatcher alive (what `/readyz` asks)."""
        return _active is self and self._dispatcher is not None and not self._dispatcher.done()

    async def _resume_dead(self, executor_ids: list[str]) -> None:
        """Hand on the attempts of processes presumed dead: DBOS puts their pending attempt
        workflows back on their queue (what its admin API's recovery endpoint does; the
        executor-ID predicate makes a second request a no-op), and `_recover` dispatches
        attempts they queued but never started."""
        await asyncio.to_thread(DBOS._recover_pending_workflows, executor_ids)
        await self._recover()

    async def _recover(self) -> None:
        """Advance every unfinished execution and dispatch its attempts that DBOS does not
        know (queued, then a crash before they started); DBOS resumes the ones it knows."""
        executions = await asyncio.to_thread(self._unfinished)
        for execution in executions:
            try:
                await self._recover_execution(execution)
            except Exception:  # one unreadable execution must not keep the others down
                logging.getLogger(__name__).exception(
                    "could not recover execution %s; it stays as it is", execution.id
                )

    async def _recover_execution(self, execution: WorkflowExecution) -> None:
        result = await self._tx(lambda s: self.runner.advance(s, execution.id))
        self._after(execution.id, result)
        runs = await asyncio.to_thread(self._in_flight, execution.id)
        for key, status in runs:
            record = await DBOS.get_workflow_status_async(attempt_workflow_id(key))
            # At start nothing of this process is in flight: act at once, settled or not.
            action = verdict(
                status,
                None if record is None else Record(record.status, 0.0),
                now=time.time(),
                run_since=0.0,
                grace_s=0.0,
            )
            if action is not None:
                await self._settle(key, action)
        self._arm_deadline(execution)

    # --- the reconciler's rounds (see `accord.engine.reconciler`) ---------------------------

    async def _reconcile(self) -> int:
        """One round: the unsettled attempts of every unfinished execution, against DBOS's
        records of them; returns how many were put right (each is logged)."""
        try:
            return await self._reconcile_round()
        except Exception as exc:
            self._note_fault(exc)
            raise

    async def _reconcile_round(self) -> int:
        unsettled = await self._read(lambda s: StepRunRepository(s).unsettled(), what="reconcile")
        if not unsettled:
            return 0
        ids = [attempt_workflow_id(run.key) for run in unsettled]
        records = {
            r.workflow_id: Record(r.status, (r.updated_at or 0) / 1000)
            for r in await DBOS.list_workflows_async(
                workflow_ids=ids, load_input=False, load_output=False
            )
        }
        now = time.time()
        acted = 0
        for run, workflow_id in zip(unsettled, ids, strict=True):
            action = verdict(
                run.status,
                records.get(workflow_id),
                now=now,
                run_since=run.since,
                grace_s=self._grace_s,
            )
            if action is None or workflow_id in self._running:
                continue
            try:
                acted += await self._settle(run.key, action)
            except Exception as exc:  # one attempt must not keep the others unsettled
                self._note_fault(exc)
                logging.getLogger(__name__).warning(
                    "could not %s attempt %s (%s); trying again next round",
                    action,
                    workflow_id,
                    describe(exc),
                    exc_info=not is_database_fault(exc),
                )
        return acted

    async def _settle(self, key: AttemptKey, action: str) -> int:
        """Do what the reconciler decided for one attempt; 1 if it did something."""
        workflow_id = attempt_workflow_id(key)
        if action == "dispatch":
            logging.getLogger(__name__).warning("dispatching attempt %s again", workflow_id)
            self._queue([key])
            return 1
        if action == "resume":
            resumed = await self._tx(lambda s: self._resume_locked(s, key))
            if resumed:
                logging.getLogger(__name__).warning(
                    "resumed attempt %s, stopped by a database fault", workflow_id
                )
            return int(resumed)
        ended = await self._tx(
            partial(
                self.runner.interrupted_attempt,
                key=key,
                reason="the attempt was interrupted before it recorded an outcome",
            )
        )
        self._after(key[0], ended)
        return 1

    def _resume_locked(self, session: Session, key: AttemptKey) -> bool:
        """Resume a cancelled attempt whose run is still in flight, holding its execution's
        lock, so that two processes' rounds never resume it twice (a second resume of a
        running workflow would start it again beside itself)."""
        execution = ExecutionRepository(session).lock(key[0], light=True)
        if execution.status in TERMINAL_EXECUTION:
            return False
        run = StepRunRepository(session).get(*key)
        if run.status not in ("pending", "running"):
            return False
        record = DBOS.get_workflow_status(attempt_workflow_id(key))
        if record is None or record.status != "CANCELLED":
            return False
        queue = ATTEMPT_QUEUE if self.queue is not None and key[0] not in self._adopted else None
        DBOS.resume_workflow(attempt_workflow_id(key), queue_name=queue)
        return True

    def _unfinished(self) -> list[WorkflowExecution]:
        return self.db.transaction(
            lambda s: ExecutionRepository(s).list_unfinished(), what="recovery", read=True
        )

    def _in_flight(self, execution_id: str) -> list[tuple[AttemptKey, StepRunStatus]]:
        return self.db.transaction(
            lambda s: [
                ((r.execution_id, r.step_id, r.attempt), r.status)
                for r in StepRunRepository(s).list(execution_id)
                if r.status in ("pending", "running")
            ],
            what="recovery",
            read=True,
        )

    # --- public operations ------------------------------------------------------------------

    async def start_execution(
        self,
        workflow_id: str,
        user_id: str,
        trigger_reason: str | TriggerReason = TriggerReason.MANUAL,
        *,
        inputs: Mapping[str, Any] | None = None,
        workspace: str | None = None,
    ) -> WorkflowExecution:
        """`workspace`: a folder the execution works in, instead of its workflow's or its own."""
        execution, result = await self._tx(
            lambda s: self.runner.start_execution(
                s,
                workflow_id=workflow_id,
                user_id=user_id,
                trigger_reason=TriggerReason(trigger_reason),
                triggered_by=user_id,
                inputs=dict(inputs or {}),
                workspace=workspace,
            ),
            retry=False,
        )
        tracing.execution_started(
            execution.id, workflow_id=workflow_id, trigger_reason=str(trigger_reason)
        )
        self._after(execution.id, result)
        self._arm_deadline(execution)
        return await self.get(execution.id, user_id) if result.finished else execution

    async def start_triggered(self, start: Mapping[str, Any]) -> dict[str, Any]:
        """One try at a start that a schedule, a hook or an upstream run made (see
        `engine.triggers`): `{"executionId"}`, `{"busy": True}` while the workflow runs
        another execution, or `{"error"}` when it cannot start at all (nothing retries that).
        Idempotent per `start["key"]`."""
        try:
            execution, result = await self._tx(
                lambda s: self.runner.start_execution(
                    s,
                    workflow_id=start["workflowId"],
                    user_id=start["userId"],
                    trigger_reason=TriggerReason(start["reason"]),
                    triggered_by=start.get("triggeredBy"),
                    inputs=dict(start.get("inputs") or {}),
                    trigger_key=start["key"],
                )
            )
        except IllegalTransition:
            return {"busy": True}
        except AccordError as exc:
            logging.getLogger(__name__).warning(
                "a %s start of workflow %s was refused: %s",
                start["reason"],
                start["workflowId"],
                exc.message,
            )
            return {"error": exc.message}
        tracing.execution_started(
            execution.id, workflow_id=execution.workflow_id, trigger_reason=start["reason"]
        )
        self._after(execution.id, result)
        assert self._loop is not None  # attempts recovered by DBOS run on its own loop
        self._loop.call_soon_threadsafe(self._arm_deadline, execution)
        return {"executionId": execution.id}

    async def pause(self, execution_id: str, user_id: str) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.PAUSED)

    async def resume(self, execution_id: str, user_id: str) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.RUNNING)

    async def cancel(
        self, execution_id: str, user_id: str, *, reason: str = "cancelled by the user"
    ) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.CANCELLED, reason)

    async def rerun(self, execution_id: str, user_id: str) -> WorkflowExecution:
        """Run again: a new execution of the same workflow, with the next number, in the
        folder the previous one was told to work in, if any."""
        previous = await self.get(execution_id, user_id)
        lineage = await self._tx(lambda s: ExecutionRepository(s).workspace_lineage(execution_id))
        return await self.start_execution(
            previous.workflow_id,
            user_id,
            previous.trigger_reason,
            inputs=previous.execution_context,
            workspace=lineage[0][1] if len(lineage) == 1 else None,
        )

    async def retry(self, execution_id: str, user_id: str) -> WorkflowExecution:
        """A new execution that keeps a failed or cancelled one's completed results and runs
        the rest (see `ExecutionRunner.retry_execution`)."""
        execution, result = await self._tx(
            lambda s: self.runner.retry_execution(s, execution_id=execution_id, user_id=user_id)
        )
        self._after(execution.id, result)
        self._arm_deadline(execution)
        return await self.get(execution.id, user_id) if result.finished else execution

    async def decide_approval(
        self, approval_id: str, user_id: str, *, approve: bool, reason: str | None = None
    ) -> ToolApproval:
        """A user approves or rejects a tool call; the attempt waiting for it (in this
        process or any other) wakes and goes on."""
        decided = await self._tx(
            lambda s: approvals.decide(
                s, approval_id, user_id=user_id, approve=approve, reason=reason
            )
        )
        await approvals.notify(decided)
        return decided

    async def get(self, execution_id: str, user_id: str | None = None) -> WorkflowExecution:
        return await self._read(
            lambda s: ExecutionRepository(s).get(execution_id, user_id=user_id),
            what="reading an execution",
        )

    async def wait(self, execution_id: str, timeout: float | None = None) -> WorkflowExecution:
        """Until the execution ends (completed, failed or cancelled); TimeoutError after
        `timeout` seconds."""
        async with asyncio.timeout(timeout):
            return await self._wait_ended(execution_id)

    # --- internals: transactions, dispatch, notifications -----------------------------------

    async def _control(
        self,
        execution_id: str,
        user_id: str,
        requested: ExecutionStatus,
        reason: str = "cancelled by the user",
    ) -> WorkflowExecution:
        execution, result = await self._tx(
            lambda s: self.runner.control(s, execution_id, user_id, requested, reason=reason)
        )
        self._after(execution_id, result)
        self._notify(execution_id)  # wake attempts waiting out a pause
        return execution

    async def _tx(self, fn: Callable[[Session], T], *, retry: bool = True) -> T:
        """`fn` in one transaction, in a thread; run again while the database faults, unless
        `retry` is off (a transaction not safe to run twice: a start whose commit may have
        landed before the connection broke would make a second execution)."""
        return await asyncio.to_thread(
            self.db.transaction, fn, what="an engine transaction", retry_for_s=60 if retry else 0
        )

    async def _read(self, fn: Callable[[Session], T], *, what: str) -> T:
        return await asyncio.to_thread(self.db.transaction, fn, what=what, read=True)

    def _after(self, execution_id: str, result: AdvanceResult) -> None:
        """After the commit: dispatch queued attempts, cancel ended ones, wake waiters."""
        if result.dispatch:
            if self.queue is None:  # on a queue, another process may well run them
                for key, start in result.starts.items():
                    self._prefetched[attempt_workflow_id(key)] = start
            self._queue(result.dispatch)
        for key in result.cancel:
            if not self._cancel_here(attempt_workflow_id(key)) and self.queue is not None:
                self._cancel_remote(attempt_workflow_id(key))  # queued, or in another process
        if result.finished:
            self._notify(execution_id)
            self._soon(lambda: self._end_children(execution_id))
            self._soon(lambda: self.triggers.execution_ended(execution_id))
            if tracing.enabled():
                self._soon(lambda: self._trace_ended(execution_id))

    def _soon(self, make: Callable[[], Awaitable[None]]) -> None:
        """Run `make()` on the engine's loop, from whichever thread calls (recovered attempts
        run on DBOS's own loop)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(make()))

    def _cancel_here(self, workflow_id: str) -> bool:
        """Cancel the attempt's task if it runs in this process; False if it does not."""
        entry = self._running.get(workflow_id)
        if entry is None:
            return False
        entry[0].call_soon_threadsafe(entry[1].cancel)
        return True

    async def _end_children(
        self,
        execution_id: str,
        *,
        started_by: str | None = None,
        reason: str = "its parent execution ended",
    ) -> None:
        """Cancel the unfinished children of an execution that has ended (or only those an
        attempt of it that failed had started), each in a transaction of its own (see
        `ExecutionRunner.end_orphan`); their own children follow through `_after`. A crash
        before this runs is caught up, for an ended execution, when a child next advances (on
        recovery at the latest)."""
        try:
            children = await asyncio.to_thread(self._unfinished_children, execution_id, started_by)
            for child_id in children:
                result = await self._tx(
                    partial(self.runner.end_orphan, execution_id=child_id, reason=reason)
                )
                self._after(child_id, result)
        except Exception:  # the children end when they next advance
            logging.getLogger(__name__).warning(
                "could not cancel the children of %s", execution_id, exc_info=True
            )

    def _unfinished_children(self, execution_id: str, started_by: str | None) -> list[str]:
        return self.db.transaction(
            lambda s: ExecutionRepository(s).unfinished_children(
                execution_id, started_by=started_by
            ),
            what="reading child executions",
            read=True,
        )

    def _queue(self, keys: list[AttemptKey]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._dispatch_queue.put_nowait, keys)

    async def _dispatch_loop(self) -> None:
        """Starts attempt workflows outside any workflow context (so they are top-level, and
        never started from racing coroutines inside one workflow)."""
        while True:
            keys = await self._dispatch_queue.get()
            if self.queue is not None:
                # A child execution's attempts run here, beside the attempt waiting for it,
                # not from the queue: that attempt holds a queue slot while it waits, so once
                # every slot held a waiting parent, children queued behind them would never
                # start. Children run within their parent's slot, as a call would.
                queued = [k for k in keys if k[0] not in self._adopted]
                # Enqueuing an ID again is a no-op in the database. One that fails is
                # dispatched again by the reconciler.
                for failed in await asyncio.gather(
                    *(self._enqueue_attempt(k) for k in queued), return_exceptions=True
                ):
                    if isinstance(failed, Exception):
                        self._note_fault(failed)
                        logging.getLogger(__name__).warning(
                            "could not enqueue an attempt (%s)", describe(failed)
                        )
                keys = [k for k in keys if k[0] in self._adopted]
            fresh = [k for k in keys if attempt_workflow_id(k) not in self._started]
            self._started.update(attempt_workflow_id(k) for k in fresh)
            # Top-level starts, one at a time: each attempt runs as soon as its own start is
            # recorded. Started all at once, a fan-out's starts took the pool's threads
            # together and the attempts already started waited behind them to mark
            # themselves and call (S2: 1.46 -> 1.40 times the critical path).
            for key in fresh:
                try:
                    await self._start_attempt(key)
                except Exception as exc:  # DBOS's database full: the reconciler starts it later
                    self._note_fault(exc)
                    self._started.discard(attempt_workflow_id(key))
                    logging.getLogger(__name__).warning(
                        "could not start attempt %s (%s)", attempt_workflow_id(key), describe(exc)
                    )

    async def _start_attempt(self, key: AttemptKey) -> None:
        with SetWorkflowID(attempt_workflow_id(key)):
            await DBOS.start_workflow_async(_step_attempt, *key)

    async def _enqueue_attempt(self, key: AttemptKey) -> None:
        assert self._attempts is not None
        with SetWorkflowID(attempt_workflow_id(key)):
            await self._attempts.enqueue_async(_step_attempt, *key)

    def _cancel_remote(self, workflow_id: str) -> None:
        """Stop an attempt this process does not run: DBOS takes it off the queue, or ends
        it at its running process's next recorded call."""

        async def cancel() -> None:
            try:
                await DBOS.cancel_workflow_async(workflow_id)
            except Exception:  # it ended meanwhile; its outcome is moot anyway
                logging.getLogger(__name__).debug("could not cancel %s", workflow_id)

        self._soon(cancel)

    async def _stop_cancelled_elsewhere(self) -> None:
        """Stop the attempts running here whose runs another process cancelled.

        Another process (the server cancelling an execution, a worker failing it or ending its
        parent) cannot cancel this process's tasks: it cancels their DBOS workflows, which an
        attempt notices only at its next recorded call. One waiting for a child execution or
        for the user's answer may not get there for minutes, and meanwhile it holds one of
        this process's queue slots (DBOS counts the tasks it runs). Reading their runs every
        CHILD_POLL_S and cancelling those cancelled, as `_after` does for executions ended
        here, stops them within that time. (Only cancelled runs: an attempt resumed here from
        a dead process holds that process's run until it marks itself running, and must not
        be taken for one another process took over.)"""
        while True:
            await asyncio.sleep(CHILD_POLL_S)
            if not self._running:
                continue
            keys = [_attempt_key(workflow_id) for workflow_id in list(self._running)]
            try:
                cancelled = await asyncio.to_thread(self._cancelled, keys)
            except Exception:  # a database hiccup: look again next time
                logging.getLogger(__name__).warning("could not read attempts", exc_info=True)
                continue
            for key in cancelled:
                self._cancel_here(attempt_workflow_id(key))

    def _cancelled(self, keys: list[AttemptKey]) -> list[AttemptKey]:
        return self.db.transaction(
            lambda s: StepRunRepository(s).cancelled(keys), what="reading attempts", read=True
        )

    def _notify(self, execution_id: str) -> None:
        with self._waiters_lock:
            waiters = list(self._waiters.get(execution_id, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def _wait_ended(
        self, execution_id: str, poll_s: float = CHILD_POLL_S
    ) -> WorkflowExecution:
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._waiters_lock:
            self._waiters.setdefault(execution_id, []).append(entry)
        try:
            while True:
                event.clear()
                if self.fault is not None:
                    raise self.fault
                # The status alone until it ends: a running execution's full read gathers
                # every result so far (see `ExecutionRepository`).
                status = await self._read(
                    lambda s: ExecutionRepository(s).status_of(execution_id), what="waiting"
                )
                if status in TERMINAL_EXECUTION:
                    return await self.get(execution_id)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_s):
                        await event.wait()
        finally:
            with self._waiters_lock:
                self._waiters[execution_id].remove(entry)
                if not self._waiters[execution_id]:
                    del self._waiters[execution_id]

    def _arm_deadline(self, execution: WorkflowExecution) -> None:
        """Fail the execution when its maxExecutionTime passes, even mid-attempt."""
        limit = (
            execution.definition.get("configuration", {})
            .get("constraints", {})
            .get("maxExecutionTime")
        )
        if limit is None or self._loop is None or execution.id in self._deadlines:
            return
        delay = started_at(execution) + limit - time.time() + 0.05  # seconds

        def fire() -> None:
            self._deadlines.pop(execution.id, None)
            asyncio.ensure_future(self._expire(execution.id))

        self._deadlines[execution.id] = self._loop.call_later(max(0.0, delay), fire)

    async def _trace_ended(self, execution_id: str) -> None:
        """Write the ended execution's own span (see `accord.telemetry.tracing`)."""
        execution = await self.get(execution_id)
        tracing.end_execution(
            execution.id,
            workflow_id=execution.workflow_id,
            status=str(execution.status),
            started_at=execution.started_at,
            # Now, not `completed_at`: that is in whole seconds, before the last spans ended.
            ended_at=None,
            parent_execution_id=execution.parent_execution_id,
            error=execution.error_message,
        )

    async def _expire(self, execution_id: str) -> None:
        result = await self._tx(lambda s: self.runner.advance(s, execution_id))
        self._after(execution_id, result)

    # --- one attempt (runs inside its DBOS workflow) ----------------------------------------

    async def _run_attempt(self, key: AttemptKey) -> None:
        workflow_id = attempt_workflow_id(key)
        task = asyncio.current_task()
        assert task is not None
        self._running[workflow_id] = (asyncio.get_running_loop(), task)
        try:
            with observed.observed_attempt(*key, executor_id=self.executor_id) as seen:
                seen.ended(await self._attempt(key))
        except Exception as exc:
            if not is_database_fault(exc):
                raise
            await self._suspend(workflow_id, exc)
            if isinstance(exc, AttemptSuspended):
                raise
            raise AttemptSuspended(f"attempt {workflow_id} met a database fault") from exc
        finally:
            self._running.pop(workflow_id, None)
            self._prefetched.pop(workflow_id, None)
            # A later duplicate start finds the ended DBOS workflow and does nothing.
            self._started.discard(workflow_id)

    def _note_fault(self, exc: BaseException) -> None:
        """Remember a full disk, wherever it was met (our tables, DBOS's), for `wait`."""
        if self.fault is None and is_disk_full(exc):
            self.fault = storage_full(self.db.url)

    async def _suspend(self, workflow_id: str, fault: BaseException) -> None:
        """Stop an attempt that met a database fault without charging its step: its workflow
        is cancelled (so DBOS records no outcome, and keeps what the attempt recorded), and
        the reconciler resumes it once the database answers: the same attempt, its recorded
        calls replayed. A full disk also stops `wait`, so that a command can say so and exit.

        The cancel runs outside the workflow's context (`run_in_executor` copies none): made
        from inside, DBOS would record it as one of the attempt's steps, and the replay
        would then find it where the attempt's next call belongs."""
        self._note_fault(fault)
        logging.getLogger(__name__).warning(
            "attempt %s paused by a database fault (%s); it resumes once the database answers",
            workflow_id,
            describe(fault),
        )
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, DBOS.cancel_workflow, workflow_id)
        except Exception as exc:  # DBOS's own database full: resumed at the next start
            self._note_fault(exc)
            logging.getLogger(__name__).warning(
                "could not pause %s (%s); the next start resumes it", workflow_id, describe(exc)
            )
        if self._loop is not None:
            # A round soon after the workflow's record settles, in no workflow's context.
            self._loop.call_soon_threadsafe(
                lambda: self._loop.call_later(  # type: ignore[union-attr]
                    SETTLE_AFTER_S, self.reconciler.soon
                ),
                context=contextvars.Context(),
            )

    async def _attempt(self, key: AttemptKey) -> AttemptOutcome | None:
        """Perform the attempt and record its outcome; None when it did not run."""
        execution_id, step_id, attempt = key
        plan = self.runner.cached_plan(execution_id)
        if plan is None:
            plan = await asyncio.to_thread(self._plan, execution_id)
        sp = plan.by_id[step_id]
        try:
            async with asyncio.timeout(sp.timeout_seconds):
                outcome = await self._perform(key, plan)
        except TimeoutError:
            minutes = (sp.timeout_seconds or 0) / 60
            outcome = AttemptOutcome(status="failed", error=f"timed out after {minutes:g} minutes")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a performer bug must not leave the step hanging
            if isinstance(exc, DBOSWorkflowCancelledError) or is_database_fault(exc):
                raise  # not the step's failure: see `_run_attempt`
            outcome = AttemptOutcome(status="failed", error=f"{type(exc).__name__}: {exc}")
        if outcome is None:
            return None
        if outcome.status == "completed":
            outcome = _validated(outcome)
        # Not a recorded step: recording the outcome is idempotent (a replay finds the run
        # ended and changes nothing; the attempts it queued are dispatched on recovery), and
        # the outcome itself is rebuilt from the recorded model calls.
        result = await self._finishes.submit((_key(key), outcome))
        self._after(execution_id, result)
        if outcome.status == "failed":  # timed out, say, while a sub-task of it still runs
            await self._end_children(
                execution_id,
                started_by=attempt_workflow_id(key),
                reason="the attempt that started it ended",
            )
        return outcome

    async def _perform(self, key: AttemptKey, plan: WorkflowPlan) -> AttemptOutcome | None:
        """Wait out backoff and pauses, assign, mark running, perform.
        None when the attempt must not run (its execution ended or it was cancelled)."""
        sp = plan.by_id[key[1]]
        # Read when the attempt was queued, unless this is a replay or a retry after a wait.
        prefetched = self._prefetched.pop(attempt_workflow_id(key), None)
        while True:
            start = prefetched
            if start is None:
                start = await asyncio.to_thread(self._begin_sync, key)
            prefetched = None
            if start.status == "stop":
                return None
            if start.status == "wait":
                await self._wait_a_while(key[0], start.not_before)
                continue
            ctx = AttemptContext(
                execution_id=key[0],
                workflow_id=start.workflow_id,
                user_id=start.user_id,
                plan=plan,
                step=sp.step,
                attempt=key[2],
                step_run_id=start.step_run_id,
                dependency_results=start.dependency_results or {},
                feedback=start.feedback,
                depth=start.depth,
                durable=_Durable(),
                children=_Children(self, key, start.depth, plan),
                execution_context=start.execution_context or {},
                approvals=AttemptApprovals(
                    self.db, _key(key), start.user_id, plan.configuration.constraints
                ),
            )
            agent_id = None
            if sp.step.sub_workflow_id is None:
                agent_id = (await self.performer.assign(ctx)).agent_id
                if start.agent_id is not None:
                    # A replay keeps the agent chosen the first time: a choice by score reads
                    # the team's load, which the replayed attempt itself adds to, and the
                    # calls that follow are recorded under that agent. (Assigning again all
                    # the same replays the assignment's own recorded calls, in order.)
                    agent_id = start.agent_id
                if agent_id not in plan.participants:
                    return AttemptOutcome(
                        status="failed",
                        retryable=False,
                        error=f"agent {agent_id!r} was assigned but does not take part in "
                        "this workflow",
                    )
            observed.assigned(workflow_id=start.workflow_id, agent_id=agent_id)
            # Idempotent (a replay finds the run already running), so not a recorded step.
            start = await self._marks.submit((_key(key), agent_id))
            if start.status == "stop":
                return None
            if start.status == "go":
                break
        if sp.step.sub_workflow_id is not None:
            return await self._run_sub_workflow(ctx, sp.step.sub_workflow_id)
        return await self.performer.perform(replace(ctx, agent_id=agent_id))

    async def _wait_a_while(self, execution_id: str, not_before: float | None) -> None:
        """Until a backoff ends, or (while paused) until a resume or cancel wakes us."""
        if not_before:
            await asyncio.sleep(max(0.0, not_before - time.time()))
            return
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._waiters_lock:
            self._waiters.setdefault(execution_id, []).append(entry)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHILD_POLL_S):
                    await event.wait()
        finally:
            with self._waiters_lock:
                self._waiters[execution_id].remove(entry)
                if not self._waiters[execution_id]:
                    del self._waiters[execution_id]

    # Each of these is safe to run twice (a replay finds the run marked or ended), so a
    # database fault is waited out and the transaction run again (`Database.transaction`).

    def _begin_sync(self, key: AttemptKey) -> AttemptStart:
        return self.db.transaction(
            lambda s: self.runner.begin_attempt(s, _key(key)), what="beginning an attempt"
        )

    def _commit_marks(self, batch: list[tuple[AttemptKey, str | None]]) -> list[AttemptStart]:
        return self.db.transaction(
            lambda s: self.runner.mark_attempts(s, batch), what="marking attempts running"
        )

    def _commit_finishes(
        self, batch: list[tuple[AttemptKey, AttemptOutcome]]
    ) -> list[AdvanceResult]:
        return self.db.transaction(
            lambda s: self.runner.finish_attempts(s, batch), what="recording outcomes"
        )

    def _plan(self, execution_id: str) -> WorkflowPlan:
        return self.db.transaction(
            lambda s: self.runner.plan(s, ExecutionRepository(s).get(execution_id)),
            what="reading a plan",
            read=True,
        )

    async def _run_sub_workflow(self, ctx: AttemptContext, workflow_id: str) -> AttemptOutcome:
        child = await ctx.children.run_workflow(
            workflow_id, inputs={"parentInputs": ctx.dependency_results}
        )
        if child.status != "completed":
            return AttemptOutcome(
                status="failed",
                error=f"sub-workflow {workflow_id!r} "
                f"{child.status}: {child.error or 'no error given'}",
            )
        summary = _sub_workflow_summary(child.final_output) or (
            f"Sub-workflow {workflow_id} completed (execution {child.execution_id})."
        )
        return AttemptOutcome(
            status="completed",
            result=StepResult(
                summary=summary,
                output=child.deliverable or json.dumps(child.final_output, indent=2),
                data={"childExecutionId": child.execution_id, "finalOutput": child.final_output},
            ).to_json_dict(),
        )


def _sub_workflow_summary(final_output: Any) -> str:
    """What a sub-workflow concluded, for the step that ran it: its final steps' summaries
    (the steps after it read this line first; its ID alone told them nothing)."""
    if not isinstance(final_output, Mapping):
        return ""
    summaries = [
        str(result["summary"])
        for result in final_output.values()
        if isinstance(result, Mapping) and result.get("summary")
    ]
    return "; ".join(summaries)[:2000]


class GroupCommit(Generic[Item, Result]):
    """Writes that arrive together share one transaction (SQLite has one writer at a time):
    while one batch commits, the items arriving queue up, and the next batch commits them all.
    Callers on any event loop await `submit` without holding a thread: one worker thread at a
    time writes, so a wide fan-out's attempts neither queue for threads nor contend for the
    database. `commit` takes a batch and answers each item in order; if a batch fails, its
    items are committed one at a time, so one bad item fails only itself."""

    def __init__(self, commit: Callable[[list[Item]], list[Result]]) -> None:
        self._commit = commit
        self._queued: list[tuple[Item, Future[Result]]] = []
        self._lock = threading.Lock()
        self._writing = False

    async def submit(self, item: Item) -> Result:
        answer: Future[Result] = Future()
        with self._lock:
            self._queued.append((item, answer))
            idle, self._writing = not self._writing, True
        if idle:
            asyncio.get_running_loop().run_in_executor(None, self._write)
        # Shielded: a caller cancelled meanwhile must not cancel the answer the writer sets.
        return await asyncio.shield(asyncio.wrap_future(answer))

    def _write(self) -> None:
        while True:
            with self._lock:
                batch, self._queued = self._queued, []
                if not batch:
                    self._writing = False
                    return
            self._run(batch)

    def _run(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        try:
            results = self._commit([item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                for pending in batch:
                    self._run([pending])
                return
            batch[0][1].set_exception(exc)
            return
        for (_, answer), result in zip(batch, results, strict=True):
            answer.set_result(result)


class _Durable:
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


class _Children:
    """`ctx.children`: child executions started from one attempt, one at a time, bounded by
    `constraints.maxDepth` and `maxFanOut`; the attempt waits for each child's result."""

    def __init__(self, engine: Engine, key: AttemptKey, depth: int, plan: Any) -> None:
        self.engine = engine
        self.key = key
        self.depth = depth
        self.constraints = plan.configuration.constraints
        self.started = 0

    async def run_workflow(self, workflow_id: str, *, inputs: Mapping[str, Any]) -> ChildResult:
        return await self._run(workflow_id, dict(inputs), None)

    async def delegate(
        self,
        *,
        agent_id: str,
        title: str,
        instructions: str,
        expected_output: str,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        task = {
            "agentId": agent_id,
            "title": title,
            "instructions": instructions,
            "expectedOutput": expected_output,
        }
        return await self._run(None, {"delegatedTask": task}, task, on_started)

    async def _run(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        self.started += 1
        n = self.started
        if self.depth + 1 > self.constraints.max_depth:
            return ChildResult(
                "",
                "failed",
                None,
                f"child executions may nest "
                f"{self.constraints.max_depth} deep (constraints.maxDepth); "
                f"this one would be at depth {self.depth + 1}",
            )
        if n > self.constraints.max_fan_out:
            return ChildResult(
                "",
                "failed",
                None,
                f"a step may start at most "
                f"{self.constraints.max_fan_out} child executions "
                "(constraints.maxFanOut)",
            )
        child_key = f"{attempt_workflow_id(self.key)}:{n}"
        started = await DBOS.run_step_async(
            {"name": f"child-start-{n}"}, self._start_sync, workflow_id, inputs, task, child_key
        )
        if started.get("error"):
            return ChildResult("", "failed", None, started["error"])
        child_id = started["executionId"]
        if on_started is not None:
            await on_started(child_id)
        self.engine._adopted.add(child_id)  # its attempts run in this process
        try:
            self.engine._after(child_id, _advance_result(started))
            ended = await self.engine._wait_ended(child_id)
        finally:
            self.engine._adopted.discard(child_id)
        return ChildResult(
            child_id,
            ended.status.value,  # type: ignore[arg-type]
            ended.final_output,
            ended.error_message,
            ended.deliverable.markdown if ended.deliverable else None,
        )

    def _start_sync(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        child_key: str,
    ) -> dict[str, Any]:
        try:
            return self.engine.db.transaction(
                partial(self._start_in, workflow_id, inputs, task, child_key),
                what="starting a child execution",
            )
        except Exception as exc:
            if is_database_fault(exc):  # not recorded as the step's outcome: see `_Durable`
                raise AttemptSuspended(f"child start {child_key} met a database fault") from exc
            raise

    def _start_in(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        child_key: str,
        s: Session,
    ) -> dict[str, Any]:
        runner = self.engine.runner
        repo = ExecutionRepository(s)
        parent = repo.get(self.key[0])
        user_id = runner.owner(s, parent)
        try:
            if workflow_id is None:
                workflow = _delegated_workflow(
                    repo.workflow(parent.workflow_id, user_id=user_id),
                    parent.definition,
                    task or {},
                )
            else:
                workflow = repo.workflow(workflow_id, user_id=user_id)
            child, result = runner.start_child(
                s,
                parent=parent,
                parent_step_id=self.key[1],
                parent_attempt=self.key[2],
                child_key=child_key,
                workflow=workflow,
                inputs=inputs,
            )
        except AccordError as exc:
            return {"error": exc.message}
        return {
            "executionId": child.id,
            "dispatch": result.dispatch,
            "finished": result.finished,
            "cancel": [],
        }


def _delegated_workflow(
    parent_workflow: Any, definition: dict[str, Any], task: dict[str, Any]
) -> Any:
    """A one-step workflow for a delegated sub-task, run by the delegate, with the parent's
    participants and limits."""
    configuration = WorkflowConfiguration.model_validate(definition["configuration"])
    step = WorkflowStep(
        id="delegated_task",
        name=task.get("title") or "Delegated task",
        instructions=task.get("instructions", ""),
        expected_output=task.get("expectedOutput", ""),
        preferred_agent_id=task.get("agentId"),
    )
    configuration = configuration.model_copy(update={"steps": [step]})
    return replace(
        parent_workflow,
        workflow_type=WorkflowType.PIPELINE,
        configuration=configuration,
        participating_agents=list(definition["participatingAgents"]),
        coordinator_agent_id=definition.get("coordinatorAgentId"),
    )


def system_database_url_for(db: Database, state_dir: Path | None = None) -> str:
    """Where DBOS keeps its records for `db`: the same Postgres database, or a SQLite file
    next to a SQLite database (named after it, so two databases never share one)."""
    if not db.is_sqlite:
        return db.url
    db_file = sqlite_path(db.url)
    folder = state_dir or (db_file.parent if db_file else data_dir())
    name = db_file.stem if db_file else "accord"
    return f"sqlite:///{folder / f'{name}.dbos.sqlite'}"


SYSTEM_BUSY_TIMEOUT_S = 30
"""How long a write to DBOS's SQLite system database waits for its turn, then for SQLite."""


def _sqlite_system_engine(url: str) -> sa.Engine:
    """DBOS's SQLite system database as DBOS sets it up (immediate transactions, a busy
    timeout), plus WAL and synchronous=NORMAL: without them every recorded step waits on
    several fsyncs (measured: 5-50 ms a step instead of about 2). Commits still survive a
    process crash; only a power loss may lose the last ones, as for our own tables."""
    path = sqlite_path(url)
    if path is not None:
        private_file(path)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        dbapi_connection.execute(f"PRAGMA busy_timeout={SYSTEM_BUSY_TIMEOUT_S * 1000}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    _take_turns(engine)
    return engine


def _take_turns(engine: sa.Engine) -> None:
    """This process's threads use the system database one at a time, on a lock that hands
    over at once. Meeting in SQLite's busy handler instead, which sleeps 1, 2, 5, 10, ... ms
    between tries, a fan-out's attempts waited up to 50 ms each to record a result.

    A thread may open a second connection while holding one (it goes ahead: the turn is its
    own); the connection that took the turn gives it back, whichever thread returns it. A
    thread kept waiting as long as SQLite's busy timeout goes ahead without it, as before."""
    turn = threading.Lock()
    held = threading.local()

    @sa.event.listens_for(engine, "checkout")
    def _take(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        depth = getattr(held, "depth", 0)
        if depth == 0:
            record.info["turn"] = turn.acquire(timeout=SYSTEM_BUSY_TIMEOUT_S)
        held.depth = depth + 1

    @sa.event.listens_for(engine, "checkin")
    def _give(_dbapi_connection: Any, record: Any) -> None:
        held.depth = max(0, getattr(held, "depth", 0) - 1)
        if record.info.pop("turn", False):
            turn.release()


def _key(raw: Any) -> AttemptKey:
    """An attempt key as DBOS hands it back (a JSON list after a replay)."""
    return (str(raw[0]), str(raw[1]), int(raw[2]))


def _attempt_key(workflow_id: str) -> AttemptKey:
    """The attempt of a DBOS workflow ID (`attempt_workflow_id`; a step ID may hold ':')."""
    execution_id, rest = workflow_id.split(":", 1)
    step_id, attempt = rest.rsplit(":", 1)
    return (execution_id, step_id, int(attempt))


def _advance_result(raw: dict[str, Any]) -> AdvanceResult:
    return AdvanceResult(
        [_key(k) for k in raw["dispatch"]], raw["finished"], [_key(k) for k in raw["cancel"]]
    )


def _validated(outcome: AttemptOutcome) -> AttemptOutcome:
    """A completed outcome must carry a schema-valid StepResult; otherwise it failed."""
    try:
        result = StepResult.model_validate(outcome.result or {}).to_json_dict()
    except ValueError as exc:
        return AttemptOutcome(
            status="failed",
            usage=outcome.usage,
            error=f"the step result did not match the schema: {exc}",
        )
    return replace(outcome, result=result)
