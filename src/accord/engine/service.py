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

One `Engine` runs per process (DBOS is a process-wide singleton). Recovered attempts may run
on DBOS's own event loop thread, so the engine's notifications are thread-safe.
"""

import asyncio
import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Serializer, SetWorkflowID

from accord.domain.enums import ExecutionStatus, TriggerReason, WorkflowType
from accord.domain.errors import AccordError
from accord.domain.execution import WorkflowExecution
from accord.domain.plan import WorkflowPlan
from accord.domain.ports import AttemptContext, AttemptOutcome, ChildResult, StepPerformer
from accord.domain.step_result import StepResult
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.domain.workflow import WorkflowConfiguration, WorkflowStep
from accord.engine.runner import (
    AdvanceResult,
    AttemptKey,
    AttemptStart,
    ExecutionRunner,
    attempt_workflow_id,
    started_at,
)
from accord.storage.db import Database, data_dir
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository

T = TypeVar("T")
Item = TypeVar("Item")
Result = TypeVar("Result")

APPLICATION_VERSION = "accord-engine-1"
"""Pinned: recovery only resumes workflows of the same version, and ours are stable by name."""
EXECUTOR_ID_ENV = "ACCORD_EXECUTOR_ID"
CHILD_POLL_S = 0.5
"""How often a parent re-reads its child when no in-process notification arrives (a child
finished by another process, or before a restart)."""

_active: "Engine | None" = None


class JsonSerializer(Serializer):
    """DBOS records our workflow inputs and step outputs as plain JSON, never pickle."""

    def serialize(self, data: Any) -> str:
        return json.dumps(data, separators=(",", ":"), default=_jsonable)

    def deserialize(self, serialized_data: str) -> Any:
        return json.loads(serialized_data)

    def name(self) -> str:
        return "accord_json"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


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
    ) -> None:
        self.db = db
        self.performer = performer
        # DBOS state belongs with the database it drives: next to a SQLite file by default,
        # named after it, so two databases never share recovery state or an executor ID.
        db_file = _sqlite_file(db.url)
        self._state_dir = state_dir or (db_file.parent if db_file else data_dir())
        self._state_name = db_file.stem if db_file else "accord"
        self._id_lock: TextIO | None = None
        self.executor_id = executor_id or os.environ.get(EXECUTOR_ID_ENV) or self._claim_id()
        self.runner = ExecutionRunner(
            db, executor_id=self.executor_id, backoff_base_s=backoff_base_s
        )
        self._system_database_url = system_database_url or (
            db.url
            if not db.is_sqlite
            else f"sqlite:///{self._state_dir / f'{self._state_name}.dbos.sqlite'}"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dispatch_queue: asyncio.Queue[list[AttemptKey]] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self._started: set[str] = set()
        self._running: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._waiters_lock = threading.Lock()
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._prefetched: dict[str, AttemptStart] = {}
        self._marks = GroupCommit(self._commit_marks)
        self._finishes = GroupCommit(self._commit_finishes)

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
        _active = self
        self._loop = asyncio.get_running_loop()
        config: DBOSConfig = {
            "name": "accord",
            "system_database_url": self._system_database_url,
            "application_version": APPLICATION_VERSION,
            "executor_id": self.executor_id,
            "serializer": JsonSerializer(),
            "notification_listener_polling_interval_sec": 0.01,
            # Every attempt hands its transactions to this pool; DBOS's default (CPUs + 4)
            # makes wide fan-outs queue for a thread.
            "max_executor_threads": 64,
            "log_level": os.environ.get("ACCORD_DBOS_LOG_LEVEL", "WARNING"),
            "run_admin_server": False,
        }  # type: ignore[typeddict-unknown-key]
        if self._system_database_url.startswith("sqlite"):
            config["system_database_engine"] = _sqlite_system_engine(self._system_database_url)
        DBOS(config=config)
        await asyncio.to_thread(DBOS.launch)
        self._dispatcher = asyncio.create_task(self._dispatch_loop())
        await self._recover()

    async def stop(self) -> None:
        global _active
        for handle in self._deadlines.values():
            handle.cancel()
        self._deadlines.clear()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        for loop, task in list(self._running.values()):
            loop.call_soon_threadsafe(task.cancel)
        await asyncio.to_thread(DBOS.destroy)
        # DBOS made its (now shut down) thread pool this loop's default executor.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        _active = None
        self._release_id()

    async def _recover(self) -> None:
        """Advance every unfinished execution and dispatch its attempts that DBOS does not
        know (queued, then a crash before they started); DBOS resumes the ones it knows."""
        executions = await asyncio.to_thread(self._unfinished)
        for execution in executions:
            result = await self._tx(lambda s, e=execution: self.runner.advance(s, e.id))
            self._after(execution.id, result)
            runs = await asyncio.to_thread(self._in_flight, execution.id)
            for key in runs:
                status = await DBOS.get_workflow_status_async(attempt_workflow_id(key))
                if status is None:
                    self._queue([key])
                elif status.status in (
                    "SUCCESS",
                    "ERROR",
                    "CANCELLED",
                    "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
                ):
                    ended = await self._tx(
                        lambda s, k=key: self.runner.interrupted_attempt(
                            s, k, "the attempt was interrupted before it recorded an outcome"
                        )
                    )
                    self._after(key[0], ended)
            self._arm_deadline(execution)

    def _unfinished(self) -> list[WorkflowExecution]:
        with self.db.read_session() as s:
            return ExecutionRepository(s).list_unfinished()

    def _in_flight(self, execution_id: str) -> list[AttemptKey]:
        with self.db.read_session() as s:
            return [
                (r.execution_id, r.step_id, r.attempt)
                for r in StepRunRepository(s).list(execution_id)
                if r.status in ("pending", "running")
            ]

    # --- public operations ------------------------------------------------------------------

    async def start_execution(
        self,
        workflow_id: str,
        user_id: str,
        trigger_reason: str | TriggerReason = TriggerReason.MANUAL,
        *,
        inputs: Mapping[str, Any] | None = None,
    ) -> WorkflowExecution:
        execution, result = await self._tx(
            lambda s: self.runner.start_execution(
                s,
                workflow_id=workflow_id,
                user_id=user_id,
                trigger_reason=TriggerReason(trigger_reason),
                triggered_by=user_id,
                inputs=dict(inputs or {}),
            )
        )
        self._after(execution.id, result)
        self._arm_deadline(execution)
        return await self.get(execution.id, user_id) if result.finished else execution

    async def pause(self, execution_id: str, user_id: str) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.PAUSED)

    async def resume(self, execution_id: str, user_id: str) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.RUNNING)

    async def cancel(self, execution_id: str, user_id: str) -> WorkflowExecution:
        return await self._control(execution_id, user_id, ExecutionStatus.CANCELLED)

    async def rerun(self, execution_id: str, user_id: str) -> WorkflowExecution:
        """Run again: a new execution of the same workflow, with the next number."""
        previous = await self.get(execution_id, user_id)
        return await self.start_execution(
            previous.workflow_id,
            user_id,
            previous.trigger_reason,
            inputs=previous.execution_context,
        )

    async def get(self, execution_id: str, user_id: str | None = None) -> WorkflowExecution:
        def read() -> WorkflowExecution:
            with self.db.read_session() as s:
                return ExecutionRepository(s).get(execution_id, user_id=user_id)

        return await asyncio.to_thread(read)

    async def wait(self, execution_id: str, timeout: float | None = None) -> WorkflowExecution:
        """Until the execution ends (completed, failed or cancelled); TimeoutError after
        `timeout` seconds."""
        async with asyncio.timeout(timeout):
            return await self._wait_ended(execution_id)

    # --- internals: transactions, dispatch, notifications -----------------------------------

    async def _control(
        self, execution_id: str, user_id: str, requested: ExecutionStatus
    ) -> WorkflowExecution:
        execution, result = await self._tx(
            lambda s: self.runner.control(s, execution_id, user_id, requested)
        )
        self._after(execution_id, result)
        self._notify(execution_id)  # wake attempts waiting out a pause
        return execution

    async def _tx(self, fn: Callable[[Any], T]) -> T:
        def run() -> T:
            with self.db.session() as s:
                return fn(s)

        return await asyncio.to_thread(run)

    def _after(self, execution_id: str, result: AdvanceResult) -> None:
        """After the commit: dispatch queued attempts, cancel ended ones, wake waiters."""
        if result.dispatch:
            for key, start in result.starts.items():
                self._prefetched[attempt_workflow_id(key)] = start
            self._queue(result.dispatch)
        for key in result.cancel:
            entry = self._running.get(attempt_workflow_id(key))
            if entry is not None:
                entry[0].call_soon_threadsafe(entry[1].cancel)
        if result.finished:
            self._notify(execution_id)

    def _queue(self, keys: list[AttemptKey]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._dispatch_queue.put_nowait, keys)

    async def _dispatch_loop(self) -> None:
        """Starts attempt workflows outside any workflow context (so they are top-level, and
        never started from racing coroutines inside one workflow)."""
        while True:
            keys = await self._dispatch_queue.get()
            fresh = [k for k in keys if attempt_workflow_id(k) not in self._started]
            self._started.update(attempt_workflow_id(k) for k in fresh)
            # Top-level starts, each in its own task: they overlap (a wide fan-out starts at
            # once), and no workflow's step order depends on them.
            await asyncio.gather(*(self._start_attempt(k) for k in fresh))

    async def _start_attempt(self, key: AttemptKey) -> None:
        with SetWorkflowID(attempt_workflow_id(key)):
            await DBOS.start_workflow_async(_step_attempt, *key)

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
                execution = await self.get(execution_id)
                if execution.status in TERMINAL_EXECUTION:
                    return execution
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
        delay = started_at(execution) + limit * 60 - time.time() + 0.05

        def fire() -> None:
            self._deadlines.pop(execution.id, None)
            asyncio.ensure_future(self._expire(execution.id))

        self._deadlines[execution.id] = self._loop.call_later(max(0.0, delay), fire)

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
            await self._attempt(key)
        finally:
            self._running.pop(workflow_id, None)
            self._prefetched.pop(workflow_id, None)
            # A later duplicate start finds the ended DBOS workflow and does nothing.
            self._started.discard(workflow_id)

    async def _attempt(self, key: AttemptKey) -> None:
        execution_id, step_id, attempt = key
        plan = self.runner.cached_plan(execution_id) or await asyncio.to_thread(
            self._plan, execution_id
        )
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
            outcome = AttemptOutcome(status="failed", error=f"{type(exc).__name__}: {exc}")
        if outcome is None:
            return
        if outcome.status == "completed":
            outcome = _validated(outcome)
        # Not a recorded step: recording the outcome is idempotent (a replay finds the run
        # ended and changes nothing; the attempts it queued are dispatched on recovery), and
        # the outcome itself is rebuilt from the recorded model calls.
        result = await asyncio.to_thread(self._finishes.submit, (_key(key), outcome))
        self._after(execution_id, result)

    async def _perform(self, key: AttemptKey, plan: Any) -> AttemptOutcome | None:
        """Wait out backoff and pauses, assign, mark running, perform.
        None when the attempt must not run (its execution ended or it was cancelled)."""
        sp = plan.by_id[key[1]]
        # Read when the attempt was queued, unless this is a replay or a retry after a wait.
        prefetched = self._prefetched.pop(attempt_workflow_id(key), None)
        while True:
            start = prefetched or await asyncio.to_thread(self._begin_sync, key)
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
            )
            agent_id = None
            if sp.step.sub_workflow_id is None:
                agent_id = (await self.performer.assign(ctx)).agent_id
                if agent_id not in plan.participants:
                    return AttemptOutcome(
                        status="failed",
                        retryable=False,
                        error=f"agent {agent_id!r} was assigned but does not take part in "
                        "this workflow",
                    )
            # Idempotent (a replay finds the run already running), so not a recorded step.
            start = await asyncio.to_thread(self._marks.submit, (_key(key), agent_id))
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

    def _begin_sync(self, key: AttemptKey) -> AttemptStart:
        with self.db.session() as s:
            return self.runner.begin_attempt(s, _key(key))

    def _commit_marks(self, batch: list[tuple[AttemptKey, str | None]]) -> list[AttemptStart]:
        with self.db.session() as s:
            return self.runner.mark_attempts(s, batch)

    def _commit_finishes(
        self, batch: list[tuple[AttemptKey, AttemptOutcome]]
    ) -> list[AdvanceResult]:
        with self.db.session() as s:
            return self.runner.finish_attempts(s, batch)

    def _plan(self, execution_id: str) -> WorkflowPlan:
        with self.db.read_session() as s:
            return self.runner.plan(s, ExecutionRepository(s).get(execution_id))

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
        summary = f"Sub-workflow {workflow_id} completed (execution {child.execution_id})."
        return AttemptOutcome(
            status="completed",
            result=StepResult(
                summary=summary,
                output=json.dumps(child.final_output, indent=2),
                data={"childExecutionId": child.execution_id, "finalOutput": child.final_output},
            ).to_json_dict(),
        )


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    done: bool = False
    result: Result | None = None
    error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Writes that arrive together share one transaction (SQLite has one writer at a time):
    while one thread commits, the items arriving queue up, and the next thread to write
    commits them all. `commit` takes a batch and answers each item in order; if a batch
    fails, its items are committed one at a time, so one bad item fails only itself."""

    def __init__(self, commit: Callable[[list[Item]], list[Result]]) -> None:
        self._commit = commit
        self._queued: list[_Pending[Item, Result]] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, item: Item) -> Result:
        pending: _Pending[Item, Result] = _Pending(item)
        with self._queue_lock:
            self._queued.append(pending)
        with self._writer:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._run(batch)
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def _run(self, batch: list[_Pending[Item, Result]]) -> None:
        try:
            results = self._commit([p.item for p in batch])
        except Exception as exc:
            if len(batch) > 1:
                for pending in batch:
                    self._run([pending])
                return
            batch[0].error = exc
            batch[0].done = True
            return
        for pending, result in zip(batch, results, strict=True):
            pending.result = result
            pending.done = True


class _Durable:
    """`ctx.durable`: each call is a DBOS step, recorded once and replayed after a crash."""

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        async def step() -> T:  # DBOS must see a coroutine function to await it
            return await fn()

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
        self, *, agent_id: str, title: str, instructions: str, expected_output: str
    ) -> ChildResult:
        task = {
            "agentId": agent_id,
            "title": title,
            "instructions": instructions,
            "expectedOutput": expected_output,
        }
        return await self._run(None, {"delegatedTask": task}, task)

    async def _run(
        self, workflow_id: str | None, inputs: dict[str, Any], task: dict[str, Any] | None
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
        self.engine._after(child_id, _advance_result(started))
        ended = await self.engine._wait_ended(child_id)
        return ChildResult(
            child_id,
            ended.status.value,  # type: ignore[arg-type]
            ended.final_output,
            ended.error_message,
        )

    def _start_sync(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        child_key: str,
    ) -> dict[str, Any]:
        runner = self.engine.runner
        with self.engine.db.session() as s:
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


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for Postgres or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def _sqlite_system_engine(url: str) -> sa.Engine:
    """DBOS's SQLite system database as DBOS sets it up (immediate transactions, a busy
    timeout), plus WAL and synchronous=NORMAL: without them every recorded step waits on
    several fsyncs (measured: 5-50 ms a step instead of about 2). Commits still survive a
    process crash; only a power loss may lose the last ones, as for our own tables."""
    engine = sa.create_engine(url, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        dbapi_connection.execute("PRAGMA busy_timeout=30000")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def _key(raw: Any) -> AttemptKey:
    """An attempt key as DBOS hands it back (a JSON list after a replay)."""
    return (str(raw[0]), str(raw[1]), int(raw[2]))


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
