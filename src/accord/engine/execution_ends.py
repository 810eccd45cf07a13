"""The end of an execution (completed, failed or cancelled): what is still in flight is
cancelled, the steps that never started are closed, and its workflow follows its runs."""

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from accord.domain.deliverable import Deliverable
from accord.domain.enums import ExecutionStatus, StepRunStatus, WorkflowStatus
from accord.domain.estimates import estimate_duration
from accord.domain.events import EventKind, ExecutionStatusChanged, StepCancelled, StepSkipped
from accord.domain.execution import StepRun, WorkflowExecution
from accord.domain.plan import WorkflowPlan
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.domain.workflow import ExecutionRecord
from accord.engine.approvals import close_open
from accord.engine.attempt_keys import AttemptKey
from accord.engine.execution_facts import ExecutionFacts
from accord.engine.progress import record_progress
from accord.engine.transaction_results import AdvanceResult
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.step_runs import StepRunRepository, StepRunState
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team.metrics import record_finished_execution


class ExecutionEnds:
    def __init__(self, facts: ExecutionFacts) -> None:
        self.facts = facts

    def finish(
        self,
        session: Session,
        execution: WorkflowExecution,
        plan: WorkflowPlan,
        runs: list[StepRunState],
        status: ExecutionStatus,
        *,
        error: str | None = None,
        final_output: Any = None,
        deliverable: Deliverable | None = None,
    ) -> AdvanceResult:
        """End the execution, cancel what is still in flight, close the steps that never
        started, and move its workflow."""
        step_runs = StepRunRepository(session)
        events = EventRepository(session)
        reason = error or "the execution ended"
        cancelled: list[AttemptKey] = []
        for i, run in enumerate(runs):
            if run.status in (StepRunStatus.PENDING, StepRunStatus.RUNNING):
                step_runs.finish(run, StepRunStatus.CANCELLED, error=reason)
                runs[i] = replace(run, status=StepRunStatus.CANCELLED)
                cancelled.append((execution.id, run.step_id, run.attempt))
                # A live view built from events learns that the step stopped here.
                events.append(
                    execution_id=execution.id,
                    user_id=self.facts.owner(session, execution),
                    kind=EventKind.STEP_CANCELLED,
                    step_id=run.step_id,
                    data=StepCancelled(attempt=run.attempt, reason=reason),
                )
        repo = ExecutionRepository(session)
        # Questions still open (the user's, above all) wait for an attempt that has ended:
        # expired, they leave the user's list of questions and can no longer be answered.
        InteractionRepository(session).expire_open(execution.id)
        # Likewise tool calls waiting for approval: no attempt waits for them any more.
        close_open(
            session,
            execution.id,
            user_id=self.facts.owner(session, execution),
            reason=f"the execution ended before a decision ({reason})",
        )
        record_progress(session, self.facts, execution, plan, runs)
        if status is not ExecutionStatus.COMPLETED:
            self._close_unstarted(session, execution, plan, runs, status, reason)
        ended = repo.set_status(
            execution,
            status,
            error_message=error,
            final_output=final_output,
            deliverable=deliverable,
        )
        data = ExecutionStatusChanged(status=str(status), previous=str(execution.status))
        if error:
            data["errorMessage"] = error
        events.append(
            execution_id=execution.id,
            user_id=self.facts.owner(session, execution),
            kind=EventKind.EXECUTION_STATUS,
            data=data,
        )
        if not _is_delegation(execution):
            self._finish_workflow(session, ended)
            # The workflow's metrics and its template's success rate follow every outcome.
            record_finished_execution(
                session,
                workflow_id=execution.workflow_id,
                user_id=self.facts.owner(session, execution),
            )
        self.facts.forget(execution.id)
        return AdvanceResult([], True, cancelled)

    def _close_unstarted(
        self,
        session: Session,
        execution: WorkflowExecution,
        plan: WorkflowPlan,
        runs: list[StepRunState],
        status: ExecutionStatus,
        reason: str,
    ) -> None:
        """The steps that never started end with the execution, so that no view shows them
        waiting for ever: `cancelled` when a cancel ended it, else `skipped`, with why."""
        step_runs = StepRunRepository(session)
        events = EventRepository(session)
        started = {r.step_id for r in runs}
        cancelled = status is ExecutionStatus.CANCELLED
        why = f"not run: {reason}" if cancelled else f"not run: the execution failed: {reason}"
        for sp in plan.steps:
            if sp.id in started:
                continue
            run = step_runs.create(
                execution_id=execution.id,
                step_id=sp.id,
                attempt=1,
                status=StepRunStatus.CANCELLED if cancelled else StepRunStatus.SKIPPED,
                error=why,
            )
            runs.append(run_state(run))
            events.append(
                execution_id=execution.id,
                user_id=self.facts.owner(session, execution),
                kind=EventKind.STEP_CANCELLED if cancelled else EventKind.STEP_SKIPPED,
                step_id=sp.id,
                data=StepCancelled(attempt=1, reason=why) if cancelled else StepSkipped(reason=why),
            )

    def _finish_workflow(self, session: Session, execution: WorkflowExecution) -> None:
        """A workflow's status follows its runs (top-level or as a sub-workflow): the last
        run to end decides. Completed or failed, it takes that outcome; cancelled, the
        workflow returns to the outcome of its latest run that completed or failed, or to
        `draft` if none has (a cancel is no verdict on the workflow)."""
        repo = ExecutionRepository(session)
        workflow = repo.workflow(
            execution.workflow_id, user_id=self.facts.owner(session, execution), lock=True
        )
        if workflow.status not in (WorkflowStatus.ACTIVE, WorkflowStatus.PAUSED):
            return  # moved by someone else already (e.g. a workflow edit); nothing to end
        if repo.other_unfinished_runs(workflow.id, exclude=execution.id):
            return  # another run of it is under way: the last to end decides
        completed = execution.status is ExecutionStatus.COMPLETED
        values: dict[str, Any] = {
            "completed_at": int(time.time()),
            "actual_duration": execution.actual_duration,
        }
        if execution.status is ExecutionStatus.CANCELLED:
            before = repo.latest_outcome(workflow.id, exclude=execution.id)
            target = WorkflowStatus(before.value) if before else WorkflowStatus.DRAFT
        else:
            target = WorkflowStatus.COMPLETED if completed else WorkflowStatus.FAILED
            values["final_result"] = (
                execution.final_output if completed else {"error": execution.error_message}
            )
        own, from_template = repo.past_durations(workflow.id, template_id=workflow.template_id)
        values["estimated_duration"] = estimate_duration(
            own, from_template, len(workflow.configuration.steps)
        )
        WorkflowRepository(session).set_status(workflow, target, **values)
        WorkflowRepository(session).append_execution_history(
            workflow.id,
            [_history_record(r) for r in StepRunRepository(session).list(execution.id)],
        )

    def end_orphan(
        self, session: Session, execution_id: str, reason: str = "its parent execution ended"
    ) -> AdvanceResult:
        """Cancel a child execution whose parent has ended: it works for an attempt that is
        gone, and would run on for nobody, spending tokens and (on workers) holding slots.
        One transaction per child, after the parent's has committed (`Engine` calls it for
        each unfinished child of an execution that ended): taking the child's lock while
        holding the parent's deadlocked, on Postgres, with transactions ending the child."""
        execution = ExecutionRepository(session).lock(execution_id, light=True)
        if execution.status in TERMINAL_EXECUTION:
            return AdvanceResult([], False, [])
        return self.cancel(session, execution, reason)

    def cancel(self, session: Session, execution: WorkflowExecution, reason: str) -> AdvanceResult:
        """End a locked, unfinished execution as cancelled, for `reason`."""
        return self.finish(
            session,
            execution,
            self.facts.plan(session, execution),
            StepRunRepository(session).states(execution.id),
            ExecutionStatus.CANCELLED,
            error=reason,
        )


def _is_delegation(execution: WorkflowExecution) -> bool:
    """A delegated sub-task is part of its parent's run, not a run of a workflow."""
    return "delegatedTask" in execution.execution_context


def run_state(run: StepRun) -> StepRunState:
    return StepRunState(
        run.id,
        run.step_id,
        run.attempt,
        run.status,
        run.agent_id,
        run.finished_at.timestamp() if run.finished_at else None,
        run.error,
        run.output,
        run.input_tokens,
        run.output_tokens,
        run.cost_usd,
        run.model_calls,
        run.tool_calls,
        run.tool_seconds,
    )


def _history_record(run: StepRun) -> ExecutionRecord:
    duration = (
        (run.finished_at - run.started_at).total_seconds()
        if run.finished_at and run.started_at
        else 0.0
    )
    output = run.output or {}
    return ExecutionRecord(
        timestamp=run.finished_at or datetime.now(UTC),
        step_id=run.step_id,
        agent_id=run.agent_id,
        action=f"{run.status} (attempt {run.attempt})",
        result=output.get("summary") or run.error,
        duration=duration,
    )
