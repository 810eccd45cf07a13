"""The records of step attempts: whether one may go, marking attempts running, and
recording their outcomes (advancing the execution in the same transaction). An attempt
that another process took over is that process's to record."""

import time
from typing import Any

from sqlalchemy.orm import Session

from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.domain.events import EventKind, StepCompleted, StepFailed, StepStarted
from accord.domain.execution import StepRun, WorkflowExecution
from accord.domain.ports import AttemptOutcome
from accord.engine.advancing import Advancer
from accord.engine.approvals import close_open
from accord.engine.attempt_keys import AttemptKey
from accord.engine.execution_facts import ExecutionFacts
from accord.engine.progress import record_start
from accord.engine.transaction_results import AdvanceResult, AttemptStart
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository

REWORK_ERROR = "the review asked for changes"


class AttemptRecords:
    def __init__(
        self, facts: ExecutionFacts, advancer: Advancer, *, executor_id: str | None
    ) -> None:
        self.facts = facts
        self.advancer = advancer
        self.executor_id = executor_id

    def begin_attempt(self, session: Session, key: AttemptKey) -> AttemptStart:
        """Whether the attempt may go (not ended, not paused, its backoff over), and if so
        its inputs."""
        execution_id, step_id, attempt = key
        execution = ExecutionRepository(session).lock(execution_id, light=True)
        step_runs = StepRunRepository(session)
        run = step_runs.get(execution_id, step_id, attempt)
        verdict = _verdict(execution, run)
        if verdict is not None:
            return verdict
        plan = self.facts.plan(session, execution)
        return AttemptStart(
            "go",
            step_run_id=run.id,
            feedback=run.feedback,
            dependency_results=step_runs.outputs(execution_id, plan.by_id[step_id].deps),
            execution_context=execution.execution_context,
            workflow_id=execution.workflow_id,
            user_id=self.facts.owner(session, execution),
            depth=execution.depth,
            agent_id=run.agent_id if run.status is StepRunStatus.RUNNING else None,
        )

    def mark_attempts(
        self, session: Session, assigned: list[tuple[AttemptKey, str | None]]
    ) -> list[AttemptStart]:
        """Mark attempts running by their agents (`step.started`), those that started
        together in one transaction, after checking each may still go (`begin_attempt`).
        The answers carry no inputs: the caller has them."""
        by_execution: dict[str, list[int]] = {}
        for i, (key, _) in enumerate(assigned):
            by_execution.setdefault(key[0], []).append(i)
        answers = [AttemptStart("stop") for _ in assigned]
        step_runs = StepRunRepository(session)
        events = EventRepository(session)
        # Locks in a fixed order, so two batches never wait on each other (Postgres).
        for execution_id in sorted(by_execution):
            execution = ExecutionRepository(session).lock(execution_id, light=True)
            started: dict[str, str | None] = {}
            for i in by_execution[execution_id]:
                (_, step_id, attempt), agent_id = assigned[i]
                run = step_runs.get(execution_id, step_id, attempt)
                verdict = _verdict(execution, run)
                if verdict is not None:
                    answers[i] = verdict
                    continue
                answers[i] = AttemptStart("go", step_run_id=run.id)
                if run.status is StepRunStatus.RUNNING:
                    # A replay: marked before, here or by a process that died (whose attempt
                    # DBOS handed to this one). The outcome is ours to record from now on.
                    if self._foreign(run):
                        step_runs.take_over(run, executor_id=self.executor_id or "")
                    continue
                step_runs.start(run, agent_id=agent_id, executor_id=self.executor_id)
                reason = "rework" if run.feedback else ("retry" if attempt > 1 else "ready")
                events.append(
                    execution_id=execution_id,
                    user_id=self.facts.owner(session, execution),
                    kind=EventKind.STEP_STARTED,
                    step_id=step_id,
                    data=StepStarted(attempt=attempt, agentId=agent_id, reason=reason),
                )
                started[step_id] = agent_id
            if started:
                record_start(session, execution, started)
        return answers

    def finish_attempt(
        self, session: Session, key: AttemptKey, outcome: AttemptOutcome
    ) -> AdvanceResult:
        """Record an attempt's outcome and advance the execution, in one transaction."""
        return self.finish_attempts(session, [(key, outcome)])[0]

    def finish_attempts(
        self, session: Session, ended: list[tuple[AttemptKey, AttemptOutcome]]
    ) -> list[AdvanceResult]:
        """Record the outcomes of attempts that ended together and advance each execution
        once, in one transaction. The advance's result goes with the first outcome of each
        execution; the others get an empty one."""
        by_execution: dict[str, list[int]] = {}
        for i, (key, _) in enumerate(ended):
            by_execution.setdefault(key[0], []).append(i)
        results = [AdvanceResult([], False, []) for _ in ended]
        # Locks in a fixed order, so two batches never wait on each other (Postgres).
        for execution_id in sorted(by_execution):
            execution = ExecutionRepository(session).lock(execution_id, light=True)
            recorded = [
                self._record_outcome(session, execution, *ended[i])
                for i in by_execution[execution_id]
            ]
            if any(recorded):
                known = {
                    ended[i][0][1]: ended[i][1].result
                    for i, ok in zip(by_execution[execution_id], recorded, strict=True)
                    if ok and ended[i][1].status == "completed"
                }
                results[by_execution[execution_id][0]] = self.advancer.advance_locked(
                    session, execution, known
                )
        return results

    def _record_outcome(
        self,
        session: Session,
        execution: WorkflowExecution,
        key: AttemptKey,
        outcome: AttemptOutcome,
    ) -> bool:
        """Record one outcome (the caller holds the execution's lock); False when moot."""
        execution_id, step_id, attempt = key
        step_runs = StepRunRepository(session)
        run = step_runs.get(execution_id, step_id, attempt)
        refused = run.status is StepRunStatus.PENDING and outcome.status == "failed"
        if run.status is not StepRunStatus.RUNNING and not refused:
            return False  # cancelled meanwhile: the outcome is moot
        if self._foreign(run):
            return False  # taken over by another process: only its outcome counts
        plan = self.facts.plan(session, execution)
        events = EventRepository(session)
        user_id = self.facts.owner(session, execution)
        duration = round(time.time() - run.started_at.timestamp(), 3) if run.started_at else 0.0
        if outcome.status == "completed":
            step_runs.finish(
                run,
                StepRunStatus.COMPLETED,
                output=outcome.result,
                usage=outcome.usage,
                **_model_report(outcome),
            )
            events.append(
                execution_id=execution_id,
                user_id=user_id,
                kind=EventKind.STEP_COMPLETED,
                step_id=step_id,
                data=StepCompleted(
                    attempt=attempt,
                    agentId=run.agent_id,
                    summary=(outcome.result or {}).get("summary"),
                    inputTokens=outcome.usage.input_tokens,
                    outputTokens=outcome.usage.output_tokens,
                    costUsd=outcome.usage.cost_usd,
                    durationS=duration,
                    outputMode=outcome.output_mode,
                ),
            )
        else:
            rework = outcome.status == "rework"
            error = REWORK_ERROR if rework else (outcome.error or "the attempt failed")
            # A failed attempt's output records why, for the scheduler: the review's feedback
            # (a rework) or that no further attempt can help.
            output: dict[str, Any] = {"retryable": outcome.retryable}
            if rework:
                output.update(
                    reworkFeedback=outcome.feedback or "no feedback given",
                    rejectedResult=outcome.result,
                )
            step_runs.finish(
                run,
                StepRunStatus.FAILED,
                output=output,
                error=error,
                usage=outcome.usage,
                **_model_report(outcome),
            )
            if not rework:  # e.g. timed out while a tool call waited for approval
                close_open(
                    session,
                    execution_id,
                    user_id=user_id,
                    reason=f"the attempt ended before a decision ({error})",
                    step_id=step_id,
                    attempt=attempt,
                )
            will_retry = outcome.retryable and attempt <= plan.by_id[step_id].max_retries
            events.append(
                execution_id=execution_id,
                user_id=user_id,
                kind=EventKind.STEP_FAILED,
                step_id=step_id,
                data=StepFailed(
                    attempt=attempt,
                    agentId=run.agent_id,
                    error=error if not rework else f"{error}: {outcome.feedback}",
                    willRetry=will_retry,
                ),
            )
        return True

    def _foreign(self, run: StepRun) -> bool:
        """Whether another process holds the running attempt (this one was presumed dead,
        its work handed over, and it is finishing late)."""
        return (
            run.status is StepRunStatus.RUNNING
            and self.executor_id is not None
            and run.executor_id is not None
            and run.executor_id != self.executor_id
        )

    def interrupted_attempt(self, session: Session, key: AttemptKey, reason: str) -> AdvanceResult:
        """An attempt whose durable workflow ended without recording an outcome."""
        run = StepRunRepository(session).get(*key)
        if run.status is StepRunStatus.PENDING:
            ExecutionRepository(session).lock(key[0], light=True)
            run = StepRunRepository(session).start(run, agent_id=None, executor_id=self.executor_id)
        if run.status is not StepRunStatus.RUNNING:
            return self.advancer.advance(session, key[0])
        if self._foreign(run):  # its durable workflow ended: no process runs it any more
            StepRunRepository(session).take_over(run, executor_id=self.executor_id or "")
        return self.finish_attempt(session, key, AttemptOutcome(status="failed", error=reason))


def _verdict(execution: WorkflowExecution, run: StepRun) -> "AttemptStart | None":
    """Stop (the run or its execution ended), wait (paused, or a backoff not over), or None
    when the attempt may go."""
    if run.status not in (
        StepRunStatus.PENDING,
        StepRunStatus.RUNNING,
    ) or execution.status not in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED):
        return AttemptStart("stop")
    if execution.status is ExecutionStatus.PAUSED and run.status is StepRunStatus.PENDING:
        return AttemptStart("wait")
    not_before = (run.output or {}).get("notBefore")
    if run.status is StepRunStatus.PENDING and not_before and not_before > time.time():
        return AttemptStart("wait", not_before=not_before)
    return None


def _model_report(outcome: AttemptOutcome) -> dict[str, Any]:
    """How the attempt's models answered, for its step run."""
    return {
        "output_mode": outcome.output_mode,
        "validation_retries": outcome.validation_retries,
        "tool_calls": outcome.tool_calls,
    }
