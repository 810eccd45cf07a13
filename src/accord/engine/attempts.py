"""One step attempt, inside its DBOS workflow: wait out backoff and pauses, assign an agent,
mark the run running, perform, and record the outcome (advancing the execution in the same
transaction). A database fault suspends the attempt instead of failing its step."""

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from dbos import DBOS
from dbos import error as dbos_errors
from sqlalchemy.orm import Session

from accord.domain.plan import WorkflowPlan
from accord.domain.ports import AttemptContext, AttemptOutcome, StepPerformer
from accord.domain.step_result import StepResult
from accord.engine.approvals import AttemptApprovals
from accord.engine.attempt_keys import AttemptKey, attempt_key, attempt_workflow_id
from accord.engine.children import AttemptChildren, ChildHost, end_children, run_sub_workflow
from accord.engine.dispatch import Dispatcher
from accord.engine.durable_calls import AttemptSuspended, RecordedCalls, is_database_fault
from accord.engine.engine_loop import EngineLoop
from accord.engine.group_commit import GroupCommit
from accord.engine.reconciler import Reconciler
from accord.engine.runner import ExecutionRunner
from accord.engine.running_attempts import RunningAttempts
from accord.engine.transaction_results import AdvanceResult, AttemptStart
from accord.engine.waiting import Waiters
from accord.storage.db import Database
from accord.storage.faults import describe
from accord.storage.repositories.executions import ExecutionRepository
from accord.telemetry import attempts as observed

WAIT_POLL_S = 0.5
"""How long a paused attempt waits for a resume or cancel before it looks again."""
SETTLE_AFTER_S = 1.2
"""After an attempt suspends itself, when to look at it again (past the reconciler's
`SETTLE_S`)."""


class Attempts:
    """Runs the step attempts DBOS starts in this process."""

    def __init__(
        self,
        host: ChildHost,
        performer: StepPerformer,
        *,
        executor_id: str,
        running: RunningAttempts,
        waiters: Waiters,
        loop: EngineLoop,
        reconciler: Reconciler,
        note_fault: Callable[[BaseException], None],
    ) -> None:
        self.host = host
        self.db: Database = host.db
        self.runner: ExecutionRunner = host.runner
        self.dispatcher: Dispatcher = host.dispatcher
        self.performer = performer
        self.executor_id = executor_id
        self.running = running
        self.waiters = waiters
        self._loop = loop
        self.reconciler = reconciler
        self._note_fault = note_fault
        self._marks = GroupCommit(self._commit_marks)
        self._finishes = GroupCommit(self._commit_finishes)

    async def run(self, key: AttemptKey) -> None:
        workflow_id = attempt_workflow_id(key)
        with self.running.running(workflow_id):
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
                self.dispatcher.prefetched.pop(workflow_id, None)
                # A later duplicate start finds the ended DBOS workflow and does nothing.
                self.dispatcher.started.discard(workflow_id)

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
        engine_loop = self._loop.loop
        if engine_loop is not None:
            # A round soon after the workflow's record settles, in no workflow's context.
            engine_loop.call_soon_threadsafe(
                lambda: engine_loop.call_later(SETTLE_AFTER_S, self.reconciler.soon),
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
            if isinstance(exc, dbos_errors.DBOSWorkflowCancelledError) or is_database_fault(exc):
                raise  # not the step's failure: see `run`
            outcome = AttemptOutcome(status="failed", error=f"{type(exc).__name__}: {exc}")
        if outcome is None:
            return None
        if outcome.status == "completed":
            outcome = _validated(outcome)
        # Not a recorded step: recording the outcome is idempotent (a replay finds the run
        # ended and changes nothing; the attempts it queued are dispatched on recovery), and
        # the outcome itself is rebuilt from the recorded model calls.
        result = await self._finishes.submit((attempt_key(key), outcome))
        self.host.after(execution_id, result)
        if outcome.status == "failed":  # timed out, say, while a sub-task of it still runs
            await end_children(
                self.host,
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
        prefetched = self.dispatcher.prefetched.pop(attempt_workflow_id(key), None)
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
                durable=RecordedCalls(),
                children=AttemptChildren(self.host, key, start.depth, plan),
                execution_context=start.execution_context or {},
                approvals=AttemptApprovals(
                    self.db, attempt_key(key), start.user_id, plan.configuration.constraints
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
            start = await self._marks.submit((attempt_key(key), agent_id))
            if start.status == "stop":
                return None
            if start.status == "go":
                break
        if sp.step.sub_workflow_id is not None:
            return await run_sub_workflow(ctx, sp.step.sub_workflow_id)
        return await self.performer.perform(replace(ctx, agent_id=agent_id))

    async def _wait_a_while(self, execution_id: str, not_before: float | None) -> None:
        """Until a backoff ends, or (while paused) until a resume or cancel wakes us."""
        if not_before:
            await asyncio.sleep(max(0.0, not_before - time.time()))
            return
        with self.waiters.listening(execution_id) as event, contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_POLL_S):
                await event.wait()

    # Each of these is safe to run twice (a replay finds the run marked or ended), so a
    # database fault is waited out and the transaction run again (`Database.transaction`).

    def _begin_sync(self, key: AttemptKey) -> AttemptStart:
        return self.db.transaction(
            partial(self.runner.begin_attempt, key=attempt_key(key)), what="beginning an attempt"
        )

    def _commit_marks(self, batch: list[tuple[AttemptKey, str | None]]) -> list[AttemptStart]:
        return self.db.transaction(
            partial(self.runner.mark_attempts, assigned=batch), what="marking attempts running"
        )

    def _commit_finishes(
        self, batch: list[tuple[AttemptKey, AttemptOutcome]]
    ) -> list[AdvanceResult]:
        return self.db.transaction(
            partial(self.runner.finish_attempts, ended=batch), what="recording outcomes"
        )

    def _plan(self, execution_id: str) -> WorkflowPlan:
        return self.db.transaction(
            partial(_plan_of, self.runner, execution_id=execution_id),
            what="reading a plan",
            read=True,
        )


def _plan_of(runner: ExecutionRunner, session: Session, *, execution_id: str) -> WorkflowPlan:
    return runner.plan(session, ExecutionRepository(session).get(execution_id))


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
