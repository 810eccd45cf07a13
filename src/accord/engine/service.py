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
that attempt's place in the limits, not from the queue (see `Dispatcher`). Either way
every process heartbeats, and a process that stops heartbeating has its attempts resumed by
another (`liveness`).

One `Engine` runs per process (DBOS is a process-wide singleton). Recovered attempts may run
on DBOS's own event loop thread, so the engine's notifications are thread-safe.

`Engine` is the public face; its parts each do one job: `dbos_runtime` (DBOS set up for
Accord), `executor_identity`, `dispatch`, `running_attempts` (and the cancel watcher),
`waiting` (waiters, deadlines), `attempts` (one attempt, inside its workflow),
`group_commit`, `children` (child executions), `recovery` (start, reaper, reconciler rounds).
"""

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accord.domain.approval import ToolApproval
from accord.domain.enums import ExecutionStatus, TriggerReason
from accord.domain.errors import AccordError, IllegalTransition
from accord.domain.execution import WorkflowExecution
from accord.domain.ports import StepPerformer
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.engine import approvals, dbos_runtime, transactions
from accord.engine.attempt_keys import attempt_workflow_id
from accord.engine.attempts import Attempts
from accord.engine.children import ChildHost, end_children
from accord.engine.dbos_runtime import DbosRuntime, system_database_url_for
from accord.engine.dispatch import Dispatcher
from accord.engine.engine_loop import EngineLoop
from accord.engine.executor_identity import ExecutorIdentity
from accord.engine.liveness import Liveness, failover_seconds
from accord.engine.notifier import Notifier
from accord.engine.queue import EXECUTOR_ID_ENV, AttemptQueue
from accord.engine.reconciler import Reconciler
from accord.engine.recovery import Recovery
from accord.engine.runner import ExecutionRunner
from accord.engine.running_attempts import RunningAttempts
from accord.engine.transaction_results import AdvanceResult
from accord.engine.triggers import Triggers
from accord.engine.waiting import Deadlines, Waiters
from accord.storage.db import Database, data_dir, sqlite_path
from accord.storage.faults import StorageFull, is_disk_full, storage_full
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.workers import WorkerRole
from accord.telemetry import tracing

CHILD_POLL_S = 0.5
"""How often a parent re-reads its child when no in-process notification arrives (a child
finished by another process, or before a restart)."""


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
        self._identity = ExecutorIdentity(
            state_dir or (db_file.parent if db_file else data_dir()),
            db_file.stem if db_file else "accord",
        )
        self.executor_id = executor_id or os.environ.get(EXECUTOR_ID_ENV) or self._identity.claim()
        self.runner = ExecutionRunner(
            db, executor_id=self.executor_id, backoff_base_s=backoff_base_s
        )
        self._runtime = DbosRuntime(
            system_database_url=system_database_url or system_database_url_for(db, state_dir),
            executor_id=self.executor_id,
            queue=queue,
        )
        self._loop = EngineLoop()
        self._dispatcher = Dispatcher(self._loop, queue, note_fault=self._note_fault)
        self._running = RunningAttempts(db)
        self._watcher: asyncio.Task[None] | None = None
        self._waiters = Waiters()
        self._deadlines = Deadlines(self._loop, self._expire)
        self.triggers = Triggers(db, self.start_triggered)
        self.notifier = Notifier(db)
        failover_s = failover_s or failover_seconds()
        self._recovery = Recovery(
            db,
            self.runner,
            runtime=self._runtime,
            dispatcher=self._dispatcher,
            running=self._running,
            deadlines=self._deadlines,
            after=self._after,
            note_fault=self._note_fault,
            grace_s=failover_s / 3,
        )
        self._liveness = Liveness(
            db,
            executor_id=self.executor_id,
            role=role,
            failover_s=failover_s,
            resume=self._recovery.resume_dead,
        )
        self.reconciler = Reconciler(self._recovery.reconcile, interval_s=failover_s / 6)
        self._child_host = ChildHost(
            db, self.runner, self._dispatcher, self._after, self._wait_ended
        )
        self._attempts = Attempts(
            self._child_host,
            performer,
            executor_id=self.executor_id,
            running=self._running,
            waiters=self._waiters,
            loop=self._loop,
            reconciler=self.reconciler,
            note_fault=self._note_fault,
        )
        self.fault: StorageFull | None = None
        """Set when the database's disk filled: `wait` raises it (a command stops cleanly;
        a server goes on, its attempts resumed once there is room)."""

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        dbos_runtime.serve_attempts(self._attempts.run)
        tracing.configure_from_environment()
        self._loop.loop = asyncio.get_running_loop()
        self._runtime.configure()
        try:
            await self._launch()
        except BaseException:
            # A full disk or a database away at start: stop what started, so the process
            # reports and exits instead of hanging on DBOS's threads.
            with contextlib.suppress(Exception):
                await self.stop()
            raise

    async def _launch(self) -> None:
        await self._runtime.launch()
        # What exists by now (modules, DBOS, SQLAlchemy's caches) lives as long as the engine:
        # frozen out of the collector's sight, it no longer makes each full collection walk
        # ~100 MB and stop every thread for 50-100 ms in the middle of attempts.
        gc.collect()
        gc.freeze()
        await self._dispatcher.start()
        self._watcher = asyncio.create_task(self._running.stop_cancelled_elsewhere())
        await self._recovery.recover()
        await self.triggers.start()
        await self.notifier.start()
        await self._liveness.start()
        self.reconciler.start()

    async def stop(self) -> None:
        await self.reconciler.stop()
        await self._liveness.halt()  # a round after DBOS's threads stop would fail loudly
        self._deadlines.cancel_all()
        await self.notifier.stop()
        await self.triggers.stop()
        await self._dispatcher.stop()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self._running.cancel_all()
        await self._runtime.destroy()
        gc.unfreeze()  # what the engine held may be collected again
        await asyncio.to_thread(tracing.flush)  # spans still batched leave before the process
        # Last: once retired, another process resumes whatever this one left unfinished.
        await self._liveness.stop()
        dbos_runtime.stop_serving_attempts()
        self._identity.release()

    @property
    def running(self) -> bool:
        """Started and not stopped, its dispatcher alive (what `/readyz` asks)."""
        return dbos_runtime.attempts_served_by(self._attempts.run) and self._dispatcher.alive

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
        execution, result = await transactions.write(
            self.db,
            partial(
                self.runner.start_execution,
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
        self._deadlines.arm(execution)
        return await self.get(execution.id, user_id) if result.finished else execution

    async def start_triggered(self, start: Mapping[str, Any]) -> dict[str, Any]:
        """One try at a start that a schedule, a hook or an upstream run made (see
        `engine.triggers`): `{"executionId"}`, `{"busy": True}` while the workflow runs
        another execution, or `{"error"}` when it cannot start at all (nothing retries that).
        Idempotent per `start["key"]`."""
        try:
            execution, result = await transactions.write(
                self.db,
                partial(
                    self.runner.start_execution,
                    workflow_id=start["workflowId"],
                    user_id=start["userId"],
                    trigger_reason=TriggerReason(start["reason"]),
                    triggered_by=start.get("triggeredBy"),
                    inputs=dict(start.get("inputs") or {}),
                    trigger_key=start["key"],
                ),
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
        assert self._loop.loop is not None  # attempts recovered by DBOS run on its own loop
        self._loop.loop.call_soon_threadsafe(self._deadlines.arm, execution)
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
        lineage = await transactions.write(
            self.db, partial(_workspace_lineage, execution_id=execution_id)
        )
        return await self.start_execution(
            previous.workflow_id,
            user_id,
            previous.trigger_reason,
            inputs=previous.execution_context,
            workspace=lineage[0][1] if len(lineage) == 1 else None,
        )

    async def retry(self, execution_id: str, user_id: str) -> WorkflowExecution:
        """A new execution that keeps a failed or cancelled one's completed results and runs
        the rest (see `ExecutionStarts.retry_execution`)."""
        execution, result = await transactions.write(
            self.db,
            partial(self.runner.retry_execution, execution_id=execution_id, user_id=user_id),
        )
        self._after(execution.id, result)
        self._deadlines.arm(execution)
        return await self.get(execution.id, user_id) if result.finished else execution

    async def decide_approval(
        self, approval_id: str, user_id: str, *, approve: bool, reason: str | None = None
    ) -> ToolApproval:
        """A user approves or rejects a tool call; the attempt waiting for it (in this
        process or any other) wakes and goes on."""
        decided = await transactions.write(
            self.db,
            partial(
                approvals.decide,
                approval_id=approval_id,
                user_id=user_id,
                approve=approve,
                reason=reason,
            ),
        )
        await approvals.notify(decided)
        return decided

    async def get(self, execution_id: str, user_id: str | None = None) -> WorkflowExecution:
        return await transactions.read(
            self.db,
            partial(_read_execution, execution_id=execution_id, user_id=user_id),
            what="reading an execution",
        )

    async def wait(self, execution_id: str, timeout: float | None = None) -> WorkflowExecution:
        """Until the execution ends (completed, failed or cancelled); TimeoutError after
        `timeout` seconds."""
        async with asyncio.timeout(timeout):
            return await self._wait_ended(execution_id)

    # --- internals: follow-up to commits, waiting -------------------------------------------

    async def _control(
        self,
        execution_id: str,
        user_id: str,
        requested: ExecutionStatus,
        reason: str = "cancelled by the user",
    ) -> WorkflowExecution:
        execution, result = await transactions.write(
            self.db,
            partial(
                self.runner.control,
                execution_id=execution_id,
                user_id=user_id,
                requested=requested,
                reason=reason,
            ),
        )
        self._after(execution_id, result)
        self._waiters.notify(execution_id)  # wake attempts waiting out a pause
        return execution

    def _after(self, execution_id: str, result: AdvanceResult) -> None:
        """After the commit: dispatch queued attempts, cancel ended ones, wake waiters."""
        self._dispatcher.dispatch(result)
        for key in result.cancel:
            workflow_id = attempt_workflow_id(key)
            if not self._running.cancel_here(workflow_id) and self.queue is not None:
                self._dispatcher.cancel_remote(workflow_id)  # queued, or in another process
        if result.finished:
            self._waiters.notify(execution_id)
            self._loop.soon(lambda: end_children(self._child_host, execution_id))
            self._loop.soon(lambda: self.triggers.execution_ended(execution_id))
            if tracing.enabled():
                self._loop.soon(lambda: self._trace_ended(execution_id))

    async def _wait_ended(
        self, execution_id: str, poll_s: float = CHILD_POLL_S
    ) -> WorkflowExecution:
        with self._waiters.listening(execution_id) as event:
            while True:
                event.clear()
                if self.fault is not None:
                    raise self.fault
                # The status alone until it ends: a running execution's full read gathers
                # every result so far (see `ExecutionRepository`).
                status = await transactions.read(
                    self.db, partial(_execution_status, execution_id=execution_id), what="waiting"
                )
                if status in TERMINAL_EXECUTION:
                    return await self.get(execution_id)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_s):
                        await event.wait()

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
        result = await transactions.write(
            self.db, partial(self.runner.advance, execution_id=execution_id)
        )
        self._after(execution_id, result)

    def _note_fault(self, exc: BaseException) -> None:
        """Remember a full disk, wherever it was met (our tables, DBOS's), for `wait`."""
        if self.fault is None and is_disk_full(exc):
            self.fault = storage_full(self.db.url)


def _execution_status(session: Session, *, execution_id: str) -> ExecutionStatus:
    return ExecutionRepository(session).status_of(execution_id)


def _read_execution(
    session: Session, *, execution_id: str, user_id: str | None
) -> WorkflowExecution:
    return ExecutionRepository(session).get(execution_id, user_id=user_id)


def _workspace_lineage(session: Session, *, execution_id: str) -> list[tuple[str, str | None]]:
    return ExecutionRepository(session).workspace_lineage(execution_id)
