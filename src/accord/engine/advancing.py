"""Advancing an execution through its plan: load its state, ask the pure scheduler what to
do, and persist the answer. Idempotent: it runs whenever an attempt ends and again on
recovery."""

import time
from typing import Any

from sqlalchemy.orm import Session

from accord.domain.deliverable import build_deliverable
from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.domain.events import EventKind, StepRetrying, StepSkipped
from accord.domain.execution import WorkflowExecution
from accord.domain.plan import WorkflowPlan
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.engine.attempt_keys import AttemptKey
from accord.engine.execution_ends import ExecutionEnds, run_state
from accord.engine.execution_facts import ExecutionFacts
from accord.engine.progress import record_progress
from accord.engine.scheduler import (
    CompleteExecution,
    ExecutionState,
    FailExecution,
    RunView,
    SkipStep,
    StartAttempt,
    decide,
)
from accord.engine.transaction_results import AdvanceResult, AttemptStart
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository, StepRunState


class Advancer:
    def __init__(
        self, facts: ExecutionFacts, ends: ExecutionEnds, *, backoff_base_s: float
    ) -> None:
        self.facts = facts
        self.ends = ends
        self.backoff_base_s = backoff_base_s

    def advance(self, session: Session, execution_id: str) -> AdvanceResult:
        execution = ExecutionRepository(session).lock(execution_id, light=True)
        return self.advance_locked(session, execution)

    def advance_locked(
        self,
        session: Session,
        execution: WorkflowExecution,
        known: dict[str, Any] | None = None,
    ) -> AdvanceResult:
        """`advance` for an execution this transaction has locked already; `known` holds
        results this transaction recorded (no need to read them back)."""
        execution_id = execution.id
        if execution.status in TERMINAL_EXECUTION:
            return AdvanceResult([], False, [])
        if execution.parent_execution_id is not None:
            parent = ExecutionRepository(session).status_of(execution.parent_execution_id)
            if parent in TERMINAL_EXECUTION:  # missed by `end_orphan` (a crash, a race)
                return self.ends.end_orphan(session, execution.id)
        plan = self.facts.plan(session, execution)
        has_conditions = any(sp.condition is not None for sp in plan.steps)
        runs = StepRunRepository(session).states(execution_id, outputs=has_conditions)
        now = time.time()
        limit = plan.configuration.constraints.max_execution_time
        if limit is not None and now - self.facts.started_at(session, execution) > limit:
            return self.ends.finish(
                session,
                execution,
                plan,
                runs,
                ExecutionStatus.FAILED,
                error=f"the execution exceeded its maxExecutionTime of {limit:g} seconds",
            )
        state = ExecutionState(
            runs=[_view(r) for r in runs],
            now=now,
            paused=execution.status is ExecutionStatus.PAUSED,
            backoff_base_s=self.backoff_base_s,
        )
        actions = decide(plan, state)
        step_runs = StepRunRepository(session)
        events = EventRepository(session)
        user_id = self.facts.owner(session, execution)
        dispatch: list[AttemptKey] = []
        ready: list[tuple[StartAttempt, str]] = []
        for action in actions:
            match action:
                case StartAttempt(step_id=step_id, attempt=attempt):
                    run = step_runs.create(
                        execution_id=execution_id,
                        step_id=step_id,
                        attempt=attempt,
                        feedback=action.feedback,
                        output={"notBefore": action.not_before} if action.not_before else None,
                    )
                    runs.append(run_state(run))
                    dispatch.append((execution_id, step_id, attempt))
                    if action.not_before is None:
                        ready.append((action, run.id))
                    if attempt > 1:
                        delay = max(0.0, (action.not_before or now) - now)
                        events.append(
                            execution_id=execution_id,
                            user_id=user_id,
                            kind=EventKind.STEP_RETRYING,
                            step_id=step_id,
                            data=StepRetrying(
                                attempt=attempt - 1,
                                nextAttempt=attempt,
                                delayS=round(delay, 3),
                                reason=action.retry_reason,
                            ),
                        )
                case SkipStep(step_id=step_id, reason=reason):
                    skipped = step_runs.create(
                        execution_id=execution_id,
                        step_id=step_id,
                        attempt=1,
                        status=StepRunStatus.SKIPPED,
                        error=reason,
                    )
                    runs.append(run_state(skipped))
                    events.append(
                        execution_id=execution_id,
                        user_id=user_id,
                        kind=EventKind.STEP_SKIPPED,
                        step_id=step_id,
                        data=StepSkipped(reason=reason),
                    )
                case CompleteExecution(final_steps=final_steps):
                    results = step_runs.outputs(execution_id, final_steps)
                    final_output = {s: results[s] for s in final_steps}
                    return self.ends.finish(
                        session,
                        execution,
                        plan,
                        runs,
                        ExecutionStatus.COMPLETED,
                        final_output=final_output,
                        deliverable=build_deliverable(
                            [(s, plan.by_id[s].step.name, final_output[s]) for s in final_steps]
                        ),
                    )
                case FailExecution(error=error):
                    return self.ends.finish(
                        session, execution, plan, runs, ExecutionStatus.FAILED, error=error
                    )
        if actions:
            record_progress(session, self.facts, execution, plan, runs)
        inputs = self._inputs(session, execution, plan, ready, known or {})
        return AdvanceResult(dispatch, False, [], inputs)

    def _inputs(
        self,
        session: Session,
        execution: WorkflowExecution,
        plan: WorkflowPlan,
        ready: list[tuple[StartAttempt, str]],
        known: dict[str, Any],
    ) -> dict[AttemptKey, AttemptStart]:
        """The inputs of attempts this advance queued to start at once: one read for all."""
        if not ready:
            return {}
        deps = {d for action, _ in ready for d in plan.by_id[action.step_id].deps}
        outputs = dict(known)
        if not deps <= known.keys():
            outputs.update(StepRunRepository(session).outputs(execution.id, deps - known.keys()))
        user_id = self.facts.owner(session, execution)
        return {
            (execution.id, action.step_id, action.attempt): AttemptStart(
                "go",
                step_run_id=run_id,
                feedback=action.feedback,
                dependency_results={
                    d: outputs[d] for d in plan.by_id[action.step_id].deps if d in outputs
                },
                execution_context=execution.execution_context,
                workflow_id=execution.workflow_id,
                user_id=user_id,
                depth=execution.depth,
            )
            for action, run_id in ready
        }


def _view(run: StepRunState) -> RunView:
    output = run.output or {}
    return RunView(
        step_id=run.step_id,
        attempt=run.attempt,
        status=run.status,
        output=run.output,
        error=run.error,
        finished_at=run.finished_at,
        rework_feedback=output.get("reworkFeedback")
        if run.status is StepRunStatus.FAILED
        else None,
        retryable=output.get("retryable", True) if run.status is StepRunStatus.FAILED else True,
    )
