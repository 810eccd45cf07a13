"""Recovery: what a start, the reaper and the reconciler's rounds do to put attempts right.

At start every unfinished execution is advanced and its attempts that DBOS does not know are
dispatched (DBOS resumes the ones it knows); the attempts of a process presumed dead are
handed on (`liveness`); and every round the unsettled attempts are compared with DBOS's
records of them and settled as `reconciler.verdict` decides."""

import logging
import time
from collections.abc import Callable
from functools import partial

from dbos import DBOS
from sqlalchemy.orm import Session

from accord.domain.enums import StepRunStatus
from accord.domain.execution import WorkflowExecution
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.engine import transactions
from accord.engine.attempt_keys import AttemptKey, attempt_workflow_id
from accord.engine.dbos_runtime import DbosRuntime
from accord.engine.dispatch import Dispatcher
from accord.engine.durable_calls import is_database_fault
from accord.engine.queue import ATTEMPT_QUEUE
from accord.engine.reconciler import Record, verdict
from accord.engine.runner import ExecutionRunner
from accord.engine.running_attempts import RunningAttempts
from accord.engine.transaction_results import AdvanceResult
from accord.engine.waiting import Deadlines
from accord.storage.db import Database
from accord.storage.faults import describe
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository, UnsettledRun


class Recovery:
    def __init__(
        self,
        db: Database,
        runner: ExecutionRunner,
        *,
        runtime: DbosRuntime,
        dispatcher: Dispatcher,
        running: RunningAttempts,
        deadlines: Deadlines,
        after: Callable[[str, AdvanceResult], None],
        note_fault: Callable[[BaseException], None],
        grace_s: float,
    ) -> None:
        self.db = db
        self.runner = runner
        self.runtime = runtime
        self.dispatcher = dispatcher
        self.running = running
        self.deadlines = deadlines
        self._after = after
        self._note_fault = note_fault
        self._grace_s = grace_s

    async def resume_dead(self, executor_ids: list[str]) -> None:
        """Hand on the attempts of processes presumed dead: DBOS puts their pending attempt
        workflows back on their queue (`DbosRuntime.resume_pending_of`), and `recover`
        dispatches attempts they queued but never started."""
        await self.runtime.resume_pending_of(executor_ids)
        await self.recover()

    async def recover(self) -> None:
        """Advance every unfinished execution and dispatch its attempts that DBOS does not
        know (queued, then a crash before they started); DBOS resumes the ones it knows."""
        executions = await transactions.read(self.db, _unfinished_executions, what="recovery")
        for execution in executions:
            try:
                await self._recover_execution(execution)
            except Exception:  # one unreadable execution must not keep the others down
                logging.getLogger(__name__).exception(
                    "could not recover execution %s; it stays as it is", execution.id
                )

    async def _recover_execution(self, execution: WorkflowExecution) -> None:
        result = await transactions.write(
            self.db, partial(self.runner.advance, execution_id=execution.id)
        )
        self._after(execution.id, result)
        runs = await transactions.read(
            self.db, partial(_in_flight_attempts, execution_id=execution.id), what="recovery"
        )
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
        self.deadlines.arm(execution)

    async def reconcile(self) -> int:
        """One round: the unsettled attempts of every unfinished execution, against DBOS's
        records of them; returns how many were put right (each is logged)."""
        try:
            return await self._reconcile_round()
        except Exception as exc:
            self._note_fault(exc)
            raise

    async def _reconcile_round(self) -> int:
        unsettled = await transactions.read(self.db, _unsettled_attempts, what="reconcile")
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
            if action is None or workflow_id in self.running:
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
            self.dispatcher.submit([key])
            return 1
        if action == "resume":
            resumed = await transactions.write(self.db, partial(self._resume_locked, key=key))
            if resumed:
                logging.getLogger(__name__).warning(
                    "resumed attempt %s, stopped by a database fault", workflow_id
                )
            return int(resumed)
        ended = await transactions.write(
            self.db,
            partial(
                self.runner.interrupted_attempt,
                key=key,
                reason="the attempt was interrupted before it recorded an outcome",
            ),
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
        queue = (
            ATTEMPT_QUEUE
            if self.dispatcher.queue is not None and key[0] not in self.dispatcher.adopted
            else None
        )
        DBOS.resume_workflow(attempt_workflow_id(key), queue_name=queue)
        return True


def _unfinished_executions(session: Session) -> list[WorkflowExecution]:
    return ExecutionRepository(session).list_unfinished()


def _in_flight_attempts(
    session: Session, *, execution_id: str
) -> list[tuple[AttemptKey, StepRunStatus]]:
    return [
        ((r.execution_id, r.step_id, r.attempt), r.status)
        for r in StepRunRepository(session).list(execution_id)
        if r.status in ("pending", "running")
    ]


def _unsettled_attempts(session: Session) -> list[UnsettledRun]:
    return StepRunRepository(session).unsettled()
