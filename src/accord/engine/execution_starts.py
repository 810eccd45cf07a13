"""Starting executions: top-level runs, retries of failed or cancelled ones, and the child
executions an attempt starts. Each creates the execution and advances it to its first
attempts in one transaction."""

import time
from typing import Any

from sqlalchemy.orm import Session

from accord.domain.enums import StepRunStatus, TriggerReason, WorkflowStatus
from accord.domain.errors import Conflict
from accord.domain.estimates import estimate_duration
from accord.domain.events import EventKind, ExecutionCreated, ExecutionStatusChanged, StepCompleted
from accord.domain.execution import StepRun, WorkflowExecution
from accord.domain.plan import compile_workflow
from accord.domain.transitions import WORKFLOW_STARTABLE, check_retry, check_workflow_start
from accord.domain.workflow import WorkflowStep
from accord.engine.advancing import Advancer
from accord.engine.execution_facts import ExecutionFacts, agents_for_plan
from accord.engine.transaction_results import AdvanceResult
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository, WorkflowForRun
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.repositories.workspace_files import WorkspaceFileRepository
from accord.tools.workspace_folder import locate_workspace, named_folder


class ExecutionStarts:
    def __init__(self, facts: ExecutionFacts, advancer: Advancer) -> None:
        self.facts = facts
        self.advancer = advancer

    def start_execution(
        self,
        session: Session,
        *,
        workflow_id: str,
        user_id: str,
        trigger_reason: TriggerReason,
        triggered_by: str | None,
        inputs: dict[str, Any] | None = None,
        trigger_key: str | None = None,
        workspace: str | None = None,
    ) -> tuple[WorkflowExecution, AdvanceResult]:
        """A new top-level execution: the workflow moves to active (from draft, completed or
        failed), the definition is validated and snapshotted, the first attempts are queued.
        With a `trigger_key` (what started it by itself) a start repeated after a crash finds
        the execution it made and queues nothing. It works in `workspace` if given, else in
        the folder its workflow names, else in a fresh one of its own (see
        `accord.tools.workspace_folder`)."""
        repo = ExecutionRepository(session)
        workflow = repo.workflow(workflow_id, user_id=user_id, lock=True)
        if trigger_key is not None:
            made = repo.by_trigger_key(trigger_key)
            if made is not None:
                return made, AdvanceResult([], False, [])
        named = workflow.configuration.workspace.path
        execution = self._start(
            session,
            workflow,
            trigger_reason=trigger_reason,
            triggered_by=triggered_by,
            inputs=inputs,
            trigger_key=trigger_key,
            workspace_dir=(
                named_folder(workspace, field="workspace")
                if workspace is not None
                else named_folder(named, field="configuration.workspace.path")
                if named is not None
                else None
            ),
        )
        return execution, self.advancer.advance(session, execution.id)

    def retry_execution(
        self, session: Session, *, execution_id: str, user_id: str
    ) -> tuple[WorkflowExecution, AdvanceResult]:
        """A new execution that picks up where a failed or cancelled one stopped: with the
        same inputs, in the same workspace folder, each step that completed there and whose
        definition (and every upstream step's) is unchanged since keeps its result; the rest
        runs (with its full retries) from the workflow as it is now, so a step fixed after
        the failure runs as fixed.

        A new execution rather than a resume of the old one: the failed execution stays as
        it ended (its status, error, metrics and the triggers and notifications its end
        fired are facts), every attempt keeps its own durable ID, and the spent tokens and
        cost stay counted once, where they were spent (`StepRun.reused_from`)."""
        repo = ExecutionRepository(session)
        previous = repo.get(execution_id, user_id=user_id)
        check_retry(previous)
        workflow = repo.workflow(previous.workflow_id, user_id=user_id, lock=True)
        execution = self._start(
            session,
            workflow,
            trigger_reason=TriggerReason.MANUAL,
            triggered_by=user_id,
            inputs=previous.execution_context,
            workspace_dir=str(locate_workspace(session, previous.id).root),
            retry_of=previous,
        )
        kept = self._carry_over(session, previous, execution, workflow)
        files = WorkspaceFileRepository(session)
        for written in files.list(previous.id):
            if written.step_id in kept:
                files.record_write(
                    execution_id=execution.id,
                    path=written.path,
                    size=written.size,
                    step_id=written.step_id,
                    attempt=1,
                    agent_id=written.agent_id,
                )
        return execution, self.advancer.advance(session, execution.id)

    def _carry_over(
        self,
        session: Session,
        previous: WorkflowExecution,
        execution: WorkflowExecution,
        workflow: WorkflowForRun,
    ) -> set[str]:
        """Copy the completed results a retry keeps (see `retry_execution`); their IDs."""
        step_runs = StepRunRepository(session)
        latest: dict[str, StepRun] = {}
        for run in step_runs.list(previous.id):
            if run.step_id not in latest or run.attempt > latest[run.step_id].attempt:
                latest[run.step_id] = run
        before = {  # through the model, so that a default added since is no change
            s["id"]: WorkflowStep.model_validate(s).to_json_dict()
            for s in (previous.definition.get("configuration") or {}).get("steps", [])
        }
        plan = self.facts.plan(session, execution)
        user_id = self.facts.owner(session, execution)
        events = EventRepository(session)
        kept: set[str] = set()
        for sp in plan.steps:  # in topological order: upstream steps are decided first
            done = latest.get(sp.id)
            if (
                done is None
                or done.status is not StepRunStatus.COMPLETED
                or before.get(sp.id) != sp.step.to_json_dict()
                or not all(d in kept for d in sp.deps)
            ):
                continue
            copy = step_runs.carry_over(done, execution_id=execution.id)
            kept.add(sp.id)
            events.append(
                execution_id=execution.id,
                user_id=user_id,
                kind=EventKind.STEP_COMPLETED,
                step_id=sp.id,
                data=StepCompleted(
                    attempt=1,
                    agentId=copy.agent_id,
                    summary=(copy.output or {}).get("summary"),
                    inputTokens=0,
                    outputTokens=0,
                    costUsd=0.0,
                    durationS=0.0,
                    outputMode=copy.output_mode,
                    reusedFrom=copy.reused_from,
                ),
            )
        return kept

    def _start(
        self,
        session: Session,
        workflow: WorkflowForRun,
        *,
        trigger_reason: TriggerReason,
        triggered_by: str | None,
        inputs: dict[str, Any] | None,
        workspace_dir: str | None,
        trigger_key: str | None = None,
        retry_of: WorkflowExecution | None = None,
    ) -> WorkflowExecution:
        """Check and snapshot the (locked) workflow, create the execution, and move the
        workflow to active; the caller advances it."""
        repo = ExecutionRepository(session)
        check_workflow_start(workflow.id, workflow.status)
        compile_workflow(
            workflow_type=workflow.workflow_type,
            configuration=workflow.configuration,
            participating_agents=workflow.participating_agents,
            coordinator_agent_id=workflow.coordinator_agent_id,
            owned_agents=agents_for_plan(session, workflow.user_id),
            owned_workflow_ids=repo.workflow_ids(user_id=workflow.user_id),
            saved_servers=McpServerRepository(session).names(user_id=workflow.user_id),
        )
        execution = self._create(
            session,
            workflow,
            trigger_reason=trigger_reason,
            triggered_by=triggered_by,
            inputs=inputs,
            trigger_key=trigger_key,
            workspace_dir=workspace_dir,
            retry_of=retry_of,
        )
        WorkflowRepository(session).set_status(
            workflow,
            WorkflowStatus.ACTIVE,
            started_at=int(time.time()),
            completed_at=None,
            current_step=0,
            total_steps=len(workflow.configuration.steps),
            estimated_duration=execution.estimated_duration,
        )
        return execution

    def start_child(
        self,
        session: Session,
        *,
        parent: WorkflowExecution,
        parent_step_id: str,
        parent_attempt: int,
        child_key: str,
        workflow: WorkflowForRun,
        inputs: dict[str, Any],
    ) -> tuple[WorkflowExecution, AdvanceResult]:
        """A child execution of `parent` (idempotent per `child_key`: a replayed start after a
        crash finds the child it already made). Refused once the attempt starting it has
        ended: a start cut off by the attempt's timeout goes on in its thread, and would
        otherwise commit a child after the attempt's end looked for children to cancel. The
        parent's lock orders the two (recording an outcome takes it too)."""
        repo = ExecutionRepository(session)
        repo.lock(parent.id, light=True)
        for child in repo.children(parent.id):
            if child.execution_context.get("childKey") == child_key:
                return child, AdvanceResult([], False, [])
        run = StepRunRepository(session).get(parent.id, parent_step_id, parent_attempt)
        if run.status is not StepRunStatus.RUNNING:
            raise Conflict(
                f"attempt {parent_attempt} of step {parent_step_id!r} has ended "
                f"({run.status.value}); it can start no more child executions"
            )
        current = repo.workflow(workflow.id, user_id=workflow.user_id, lock=True)
        delegated = "delegatedTask" in inputs
        if not delegated and current.status in WORKFLOW_STARTABLE:
            # A sub-workflow's status follows its runs, as a top-level workflow's does (a
            # delegated sub-task runs in its parent's workflow, which is active already).
            WorkflowRepository(session).set_status(
                current,
                WorkflowStatus.ACTIVE,
                started_at=int(time.time()),
                completed_at=None,
                current_step=0,
                total_steps=len(current.configuration.steps),
            )
        execution = self._create(
            session,
            workflow,
            trigger_reason=TriggerReason.DEPENDENCY,
            triggered_by=parent.triggered_by,
            inputs={**inputs, "childKey": child_key},
            parent=parent,
            parent_step_id=parent_step_id,
            delegated=delegated,
        )
        return execution, self.advancer.advance(session, execution.id)

    def _create(
        self,
        session: Session,
        workflow: WorkflowForRun,
        *,
        trigger_reason: TriggerReason,
        triggered_by: str | None,
        inputs: dict[str, Any] | None,
        parent: WorkflowExecution | None = None,
        parent_step_id: str | None = None,
        trigger_key: str | None = None,
        workspace_dir: str | None = None,
        delegated: bool = False,
        retry_of: WorkflowExecution | None = None,
    ) -> WorkflowExecution:
        execution = ExecutionRepository(session).create(
            workflow_id=workflow.id,
            user_id=workflow.user_id,
            trigger_reason=trigger_reason,
            triggered_by=triggered_by,
            definition={**workflow.definition(), "startedAt": time.time()},
            execution_context=dict(inputs or {}),
            parent_execution_id=parent.id if parent else None,
            parent_step_id=parent_step_id,
            depth=parent.depth + 1 if parent else 0,
            estimated_duration=self._estimate(session, workflow, delegated=delegated),
            trigger_key=trigger_key,
            workspace_dir=workspace_dir,
            retry_of=retry_of.id if retry_of else None,
        )
        events = EventRepository(session)
        created = ExecutionCreated(
            executionNumber=execution.execution_number,
            workflowId=workflow.id,
            triggerReason=str(trigger_reason),
            parentExecutionId=execution.parent_execution_id,
        )
        if retry_of is not None:
            created["retryOf"] = retry_of.id
            created["retryOfNumber"] = retry_of.execution_number
        events.append(
            execution_id=execution.id,
            user_id=workflow.user_id,
            kind=EventKind.EXECUTION_CREATED,
            data=created,
        )
        events.append(
            execution_id=execution.id,
            user_id=workflow.user_id,
            kind=EventKind.EXECUTION_STATUS,
            data=ExecutionStatusChanged(status="running", previous="pending"),
        )
        return execution

    def _estimate(self, session: Session, workflow: WorkflowForRun, *, delegated: bool) -> int:
        """Seconds the new execution should take (`accord.domain.estimates`); a delegated
        sub-task is one step, whatever its parent's workflow took."""
        steps = len(workflow.configuration.steps)
        if delegated:
            return estimate_duration([], [], steps)
        own, from_template = ExecutionRepository(session).past_durations(
            workflow.id, template_id=workflow.template_id
        )
        return estimate_duration(own, from_template, steps)
