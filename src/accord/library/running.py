"""Running a `Workflow` in this process, as `accord run` does: install its agents and
workflow on the local database (by name), start the engine and the agent team here, start
an execution (or follow the one a crash cut off), wait for its end, and read what it came to.

The engine is one per process (DBOS is a process-wide singleton), so runs that overlap in
one event loop share it: the first starts it, the last stops it. A blocking `run` called
inside a running loop (a notebook cell) runs on a loop of its own in a worker thread.
"""

import asyncio
import contextlib
import signal
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from accord.domain.errors import AccordError
from accord.domain.execution import ExecutionEvent, WorkflowExecution
from accord.domain.workflow_file import WorkflowFileError
from accord.library.errors import ValidationError
from accord.library.results import RunResult, run_result
from accord.storage.db import Database
from accord.storage.repositories.events import GAP_GRACE_S, EventRepository, SettledHorizon
from accord.team import read_outcome, unfinished_execution

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from accord.domain.agent import Agent as StoredAgent
    from accord.domain.approval import ToolApproval
    from accord.domain.triggers import HookCreated, NotificationCreated
    from accord.engine.service import Engine
    from accord.library.definition import Workflow
    from accord.storage.repositories.executions import ExecutionRepository
    from accord.team import AgentModel, ModelSource

T = TypeVar("T")
EVENT_POLL_S = 0.1
"""How often a stream looks for new events while the execution runs."""
APPROVAL_POLL_S = 0.5
"""How often a blocking run looks for tool calls waiting for approval."""

Approve = Callable[["ToolApproval"], bool]
"""Decides a tool call waiting for approval (`requireApproval`) during `run` or `arun`:
True lets it be made, False rejects it (the agent's model is told). It runs in a worker
thread, so it may block (e.g. on `input()`)."""


class _Models:
    """The team's models: the Python objects runs in this process gave their agents (by
    agent name), then what each agent's stored settings say (`accord.team.models`)."""

    def __init__(self, fallback: "ModelSource") -> None:
        self.fallback = fallback
        self.objects: dict[str, Model] = {}

    def add(self, models: "Mapping[str, Model]") -> None:
        self.objects |= {name.strip().casefold(): model for name, model in models.items()}

    def __call__(self, agent: "StoredAgent") -> "AgentModel":
        from accord.llm import model_cost
        from accord.team import AgentModel

        model = self.objects.get(agent.name.strip().casefold())
        if model is None:
            return self.fallback(agent)
        return AgentModel(model, cost_usd=model_cost(model))


@dataclass(eq=False)
class _Lease:
    """The engine of this event loop, shared by the runs that overlap in it."""

    database: Database
    user_id: str
    engine: "Engine"
    models: _Models
    users: int = 0


_leases: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lease]" = (
    weakref.WeakKeyDictionary()
)
_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = (
    weakref.WeakKeyDictionary()
)


async def _open_lease() -> _Lease:
    from accord.engine.service import Engine  # the engine stack loads only when running
    from accord.team import AgentTeam, local_user_id, open_database, provider_models

    database = await asyncio.to_thread(open_database)

    def user() -> str:
        with database.session() as session:
            return local_user_id(session)

    try:
        user_id = await asyncio.to_thread(user)
        models = _Models(provider_models(database))
        engine = Engine(database, AgentTeam(database, models=models))
        try:
            await engine.start()
        except BaseException:  # Ctrl-C while starting: stop what did start, retire at once
            with contextlib.suppress(Exception):
                await engine.stop()
            raise
    except BaseException:
        database.dispose()
        raise
    return _Lease(database=database, user_id=user_id, engine=engine, models=models)


@contextlib.asynccontextmanager
async def _lease() -> AsyncIterator[_Lease]:
    loop = asyncio.get_running_loop()
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        lease = _leases.get(loop)
        if lease is None:
            lease = _leases[loop] = await _open_lease()
        lease.users += 1
    try:
        yield lease
    finally:
        async with lock:
            lease.users -= 1
            if lease.users == 0:
                del _leases[loop]
                try:
                    await lease.engine.stop()
                finally:
                    lease.database.dispose()


async def _start(
    lease: _Lease, workflow: "Workflow", inputs: Mapping[str, Any] | None
) -> WorkflowExecution:
    """Install the workflow and start an execution, or find the one a crash cut off."""
    from accord.team import install_workflow

    lease.models.add(workflow.in_process_models())
    for held in workflow.in_process_tools():
        held.register()  # this workflow's own functions, should another share a reference
    loaded = workflow.loaded()

    def install() -> str:
        with lease.database.session() as session:
            return install_workflow(
                session, user_id=lease.user_id, loaded=loaded, show_secret=_show_secret
            ).id

    try:
        workflow_id = await asyncio.to_thread(install)
    except WorkflowFileError as exc:
        raise ValidationError(exc.problems, subject=f"workflow {workflow.name!r}") from None
    unfinished = await asyncio.to_thread(
        unfinished_execution, lease.database, workflow_id, lease.user_id
    )
    if unfinished is not None:
        return unfinished
    return await lease.engine.start_execution(workflow_id, lease.user_id, inputs=inputs)


def _show_secret(made: "HookCreated | NotificationCreated") -> None:
    """A secret made when the workflow's triggers were installed: shown this once."""
    from accord.domain.triggers import HookCreated

    if isinstance(made, HookCreated):
        what = f"Hook {made.name}: POST {made.url_path}  secret {made.secret}"
    else:
        what = f"Notification to {made.url}: signing secret {made.secret}"
    print(f"{what} (shown once)", file=sys.stderr)


async def _finish(lease: _Lease, execution_id: str, timeout: float | None) -> RunResult:
    try:
        await lease.engine.wait(execution_id, timeout=timeout)
    except TimeoutError:
        await lease.engine.cancel(
            execution_id, lease.user_id, reason=f"not finished within the timeout of {timeout:g} s"
        )
    return await asyncio.to_thread(
        lambda: run_result(read_outcome(lease.database, execution_id, lease.user_id))
    )


async def run_async(
    workflow: "Workflow",
    *,
    inputs: Mapping[str, Any] | None,
    timeout: float | None,
    approve: Approve | None = None,
) -> RunResult:
    async with _lease() as lease:
        execution = await _start(lease, workflow, inputs)
        approvals = asyncio.create_task(_answer_approvals(lease, execution.id, approve))
        try:
            return await _finish(lease, execution.id, timeout)
        finally:
            approvals.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await approvals


def run_blocking(
    workflow: "Workflow",
    *,
    inputs: Mapping[str, Any] | None,
    timeout: float | None,
    approve: Approve | None = None,
) -> RunResult:
    return blocking(lambda: run_async(workflow, inputs=inputs, timeout=timeout, approve=approve))


async def _answer_approvals(lease: _Lease, execution_id: str, approve: Approve | None) -> None:
    """Until cancelled: each tool call of the execution (or of its sub-workflows and delegated
    sub-tasks) that waits for approval is put to `approve`, or, without it, announced on
    stderr with how to decide it (else a blocking run would wait without a word)."""
    from accord.domain.approval import ToolApproval
    from accord.domain.enums import ApprovalStatus
    from accord.domain.errors import IllegalTransition
    from accord.storage.repositories.approvals import ApprovalRepository
    from accord.storage.repositories.executions import ExecutionRepository

    seen: set[str] = set()

    def waiting() -> list[ToolApproval]:
        with lease.database.read_session() as session:
            pending = ApprovalRepository(session).list(
                user_id=lease.user_id, status=ApprovalStatus.PENDING
            )
            executions = ExecutionRepository(session)
            return [
                a
                for a in pending
                if a.id not in seen and _descends_from(executions, a.execution_id, execution_id)
            ]

    while True:
        for approval in await asyncio.to_thread(waiting):
            seen.add(approval.id)
            if approve is None:
                print(
                    f"{approval.agent_name or 'An agent'} waits for your approval to call "
                    f"{approval.server}.{approval.tool}: `accord approvals approve "
                    f"{approval.id}` (or `reject`)",
                    file=sys.stderr,
                )
                continue
            try:
                approved = bool(await asyncio.to_thread(approve, approval))
                reason = "approved by the script" if approved else "rejected by the script"
            except Exception as exc:  # the script's bug rejects the call, never hangs it
                approved, reason = False, f"the approve callback failed: {exc!r}"
            with contextlib.suppress(IllegalTransition):  # decided elsewhere meanwhile
                await lease.engine.decide_approval(
                    approval.id, lease.user_id, approve=approved, reason=reason
                )
        await asyncio.sleep(APPROVAL_POLL_S)


def _descends_from(executions: "ExecutionRepository", execution_id: str, ancestor: str) -> bool:
    """Whether `execution_id` is `ancestor` or one of its children's children..."""
    current: str | None = execution_id
    while current is not None:
        if current == ancestor:
            return True
        current = executions.get(current).parent_execution_id
    return False


def blocking(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end from synchronous code. Ctrl-C (and SIGTERM, from a script's
    main thread) cancels it, so that it stops cleanly, then raises KeyboardInterrupt."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_stoppable(make))
    return _in_thread(make)  # a loop runs in this thread (a notebook): use another thread


async def _stoppable(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    main = asyncio.current_task()
    assert main is not None
    sigterm = threading.current_thread() is threading.main_thread()
    if sigterm:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        return await make()
    except asyncio.CancelledError:
        if main.cancelling():  # SIGTERM (SIGINT, asyncio.run turns into KeyboardInterrupt)
            raise KeyboardInterrupt from None
        raise
    finally:
        if sigterm:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


def _in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    outcome: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> T:
        outcome["loop"], outcome["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await make()

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=target, name="accord-run", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:  # a notebook's "interrupt": stop the run cleanly, then say so
        started.wait()
        if "task" in outcome:
            outcome["loop"].call_soon_threadsafe(outcome["task"].cancel)
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


class ExecutionStream:
    """A workflow's run as its events: `async for event in workflow.stream(...)` yields each
    `ExecutionEvent` as it is recorded (the ones the server's live stream sends), and ends
    when the execution does; `result` then holds the `RunResult`.

    Use it in `async with` (or iterate it to its end): leaving early stops the run as
    Ctrl-C does, and the execution resumes on the next run of the workflow.

    A tool call marked `requireApproval` waits for a decision: on its `approval.requested`
    event, `approve` or `reject` it (`event.data["approvalId"]`), or decide it from
    elsewhere (`accord approvals`, the web UI of a server on the same database)."""

    def __init__(
        self,
        workflow: "Workflow",
        *,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.workflow = workflow
        self.result: RunResult | None = None
        """The outcome, once the stream has ended."""
        self.execution_id: str | None = None
        """The execution's ID, once it has started."""
        self._events = self._run(inputs, timeout)
        self._lease: _Lease | None = None

    def __aiter__(self) -> "ExecutionStream":
        return self

    async def __anext__(self) -> ExecutionEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop following the run (and stop it, if it has not ended)."""
        await self._events.aclose()

    async def approve(self, approval_id: str, *, reason: str | None = None) -> None:
        """Let a tool call waiting for approval be made."""
        await self._decide(approval_id, approve=True, reason=reason)

    async def reject(self, approval_id: str, *, reason: str | None = None) -> None:
        """Refuse a tool call waiting for approval; the agent's model reads `reason`."""
        await self._decide(approval_id, approve=False, reason=reason)

    async def _decide(self, approval_id: str, *, approve: bool, reason: str | None) -> None:
        if self._lease is None:
            raise RuntimeError("the run has not started yet: decide on its approval events")
        await self._lease.engine.decide_approval(
            approval_id, self._lease.user_id, approve=approve, reason=reason
        )

    async def __aenter__(self) -> "ExecutionStream":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(
        self, inputs: Mapping[str, Any] | None, timeout: float | None
    ) -> AsyncGenerator[ExecutionEvent]:
        async with _lease() as lease:
            execution = await _start(lease, self.workflow, inputs)
            self.execution_id = execution.id
            self._lease = lease
            finishing = asyncio.ensure_future(_finish(lease, execution.id, timeout))
            first = await asyncio.to_thread(_first_event_id, lease.database, execution.id)
            settled = SettledHorizon((first or 1) - 1, grace_seconds=GAP_GRACE_S)
            try:
                while True:
                    ended = finishing.done()  # then every event of the execution is committed
                    before = settled.horizon
                    events = await asyncio.to_thread(
                        _settled_events, lease, execution.id, settled, ended
                    )
                    for event in events:
                        yield event
                    if settled.horizon == before:
                        if ended:
                            break
                        await asyncio.wait({finishing}, timeout=EVENT_POLL_S)
                self.result = finishing.result()
            finally:
                self._lease = None
                if not finishing.done():
                    finishing.cancel()
                    with contextlib.suppress(asyncio.CancelledError, AccordError):
                        await finishing


def _first_event_id(database: Database, execution_id: str) -> int | None:
    with database.read_session() as session:
        return EventRepository(session).first_id(execution_id)


def _settled_events(
    lease: _Lease, execution_id: str, settled: SettledHorizon, ended: bool
) -> list[ExecutionEvent]:
    with lease.database.read_session() as session:
        return EventRepository(session).settled_after(
            settled, user_id=lease.user_id, execution_id=execution_id, all_committed=ended
        )


def _workflow(workflow: "Workflow | str | Path") -> "Workflow":
    from accord.library.definition import Workflow

    return workflow if isinstance(workflow, Workflow) else Workflow.from_yaml(workflow)


def run(
    workflow: "Workflow | str | Path",
    *,
    inputs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    approve: Approve | None = None,
) -> RunResult:
    """Run a `Workflow` (or a workflow file) in this process; see `Workflow.run`."""
    return _workflow(workflow).run(inputs=inputs, timeout=timeout, approve=approve)


async def arun(
    workflow: "Workflow | str | Path",
    *,
    inputs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    approve: Approve | None = None,
) -> RunResult:
    """Run a `Workflow` (or a workflow file) in this process; see `Workflow.arun`."""
    return await _workflow(workflow).arun(inputs=inputs, timeout=timeout, approve=approve)


def stream(
    workflow: "Workflow | str | Path",
    *,
    inputs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> ExecutionStream:
    """Run a `Workflow` (or a workflow file) and follow its events; see `Workflow.stream`."""
    return _workflow(workflow).stream(inputs=inputs, timeout=timeout)
