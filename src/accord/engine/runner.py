"""The engine's transactions: start an execution, advance it, begin and finish attempts.

Each public method is one transaction on our tables (the truth every reader sees), with
the events a live view needs appended in the same transaction. `advance` loads the state,
asks the pure scheduler what to do, and persists the answer; it is idempotent, so it runs
whenever an attempt ends and again on recovery. Nothing here talks to DBOS or a model:
`accord.engine.service.Engine` does that around these transactions.
"""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.deliverable import Deliverable, build_deliverable
from accord.domain.enums import (
    ExecutionStatus,
    StepRunStatus,
    TriggerReason,
    WorkflowStatus,
    WorkflowType,
)
from accord.domain.errors import Conflict, IllegalTransition
from accord.domain.estimates import estimate_duration
from accord.domain.events import (
    EventKind,
    ExecutionCreated,
    ExecutionProgress,
    ExecutionStatusChanged,
    StepCancelled,
    StepCompleted,
    StepFailed,
    StepRetrying,
    StepSkipped,
    StepStarted,
)
from accord.domain.execution import StepRun, Usage, WorkflowExecution
from accord.domain.plan import WorkflowPlan, compile_workflow
from accord.domain.ports import AttemptOutcome
from accord.domain.transitions import (
    TERMINAL_EXECUTION,
    WORKFLOW_STARTABLE,
    check_retry,
    check_workflow_start,
)
from accord.domain.workflow import ExecutionRecord, WorkflowConfiguration, WorkflowStep
from accord.engine.approvals import close_open
from accord.engine.scheduler import (
    CompleteExecution,
    ExecutionState,
    FailExecution,
    RunView,
    SkipStep,
    StartAttempt,
    decide,
)
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository, WorkflowForRun
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.storage.repositories.step_runs import StepRunRepository, StepRunState
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.repositories.workspace_files import WorkspaceFileRepository
from accord.team.metrics import record_finished_execution
from accord.tools.workspace_folder import locate_workspace, named_folder

AttemptKey = tuple[str, str, int]
"""(execution ID, step ID, attempt): also the DBOS workflow ID, joined by ':'."""

REWORK_ERROR = "the review asked for changes"
CACHE_LIMIT = 4096
"""Executions whose plans and owners a runner keeps at most (see `_bounded`)."""


def attempt_workflow_id(key: AttemptKey) -> str:
    return f"{key[0]}:{key[1]}:{key[2]}"


@dataclass(frozen=True)
class AttemptStart:
    """What `begin_attempt` found: whether to go on, and the attempt's inputs."""

    # "wait": not before a time, or paused; "stop": ended or cancelled
    status: Literal["go", "wait", "stop"]
    not_before: float | None = None
    step_run_id: str = ""
    feedback: str | None = None
    dependency_results: dict[str, Any] | None = None
    execution_context: dict[str, Any] | None = None
    workflow_id: str = ""
    user_id: str = ""
    depth: int = 0
    agent_id: str | None = None
    """The agent of an attempt marked running before (a replay after a crash)."""


@dataclass(frozen=True)
class AdvanceResult:
    dispatch: list[AttemptKey]
    finished: bool
    """True when this advance ended the execution (completed or failed)."""
    cancel: list[AttemptKey]
    """Attempts still in flight that the end of the execution cancelled."""
    starts: dict[AttemptKey, "AttemptStart"] = field(default_factory=dict)
    """The inputs of dispatched attempts that may start at once, read in this transaction,
    so the attempt need not read them again (it still checks, when it marks itself
    running, that its execution has not ended or paused meanwhile)."""


class ExecutionRunner:
    def __init__(
        self, db: Database, *, executor_id: str | None = None, backoff_base_s: float = 1.0
    ) -> None:
        self.db = db
        self.executor_id = executor_id
        self.backoff_base_s = backoff_base_s
        self._plans: dict[str, WorkflowPlan] = {}
        self._owners: dict[str, str] = {}
        self._started_at: dict[str, float] = {}

    def owner(self, session: Session, execution: WorkflowExecution) -> str:
        """The user an execution belongs to (cached: it never changes)."""
        if execution.id not in self._owners:
            _bounded(self._owners)
            self._owners[execution.id] = ExecutionRepository(session).owner(execution.id)
        return self._owners[execution.id]

    # --- plans ------------------------------------------------------------------------------

    def plan(self, session: Session, execution: WorkflowExecution) -> WorkflowPlan:
        """The compiled plan of the execution's definition snapshot (cached: it never changes)."""
        cached = self._plans.get(execution.id)
        if cached is not None:
            return cached
        if not execution.definition:  # a light read: fetch the snapshot
            execution = ExecutionRepository(session).get(execution.id)
        d = execution.definition
        user_id = self.owner(session, execution)
        plan = compile_workflow(
            workflow_type=WorkflowType(d["workflowType"]),
            configuration=WorkflowConfiguration.model_validate(d["configuration"]),
            participating_agents=d["participatingAgents"],
            coordinator_agent_id=d.get("coordinatorAgentId"),
            owned_agents=_agents_for_plan(session, user_id),
        )
        _bounded(self._plans, self._started_at)
        self._plans[execution.id] = plan
        self._started_at[execution.id] = started_at(execution)
        return plan

    def forget(self, execution_id: str) -> None:
        """Drop what is cached about an execution that has ended."""
        self._plans.pop(execution_id, None)
        self._started_at.pop(execution_id, None)
        self._owners.pop(execution_id, None)

    def cached_plan(self, execution_id: str) -> WorkflowPlan | None:
        return self._plans.get(execution_id)

    def started_at(self, session: Session, execution: WorkflowExecution) -> float:
        self.plan(session, execution)
        return self._started_at[execution.id]

    # --- starting ---------------------------------------------------------------------------

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
        return execution, self.advance(session, execution.id)

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
        return execution, self.advance(session, execution.id)

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
        plan = self.plan(session, execution)
        user_id = self.owner(session, execution)
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
            owned_agents=_agents_for_plan(session, workflow.user_id),
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
        return execution, self.advance(session, execution.id)

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

    # --- advancing --------------------------------------------------------------------------

    def advance(self, session: Session, execution_id: str) -> AdvanceResult:
        execution = ExecutionRepository(session).lock(execution_id, light=True)
        return self._advance(session, execution)

    def _advance(
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
                return self.end_orphan(session, execution.id)
        plan = self.plan(session, execution)
        has_conditions = any(sp.condition is not None for sp in plan.steps)
        runs = StepRunRepository(session).states(execution_id, outputs=has_conditions)
        now = time.time()
        limit = plan.configuration.constraints.max_execution_time
        if limit is not None and now - self.started_at(session, execution) > limit:
            return self._finish(
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
        user_id = self.owner(session, execution)
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
                    runs.append(_state(run))
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
                    runs.append(_state(skipped))
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
                    return self._finish(
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
                    return self._finish(
                        session, execution, plan, runs, ExecutionStatus.FAILED, error=error
                    )
        if actions:
            self._record_progress(session, execution, plan, runs)
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
        user_id = self.owner(session, execution)
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

    def _record_progress(
        self,
        session: Session,
        execution: WorkflowExecution,
        plan: WorkflowPlan,
        runs: Sequence[StepRunState],
    ) -> None:
        """Rebuild the aggregates from the step runs: never a read-modify-write of a copy.
        (`agent_assignments` changes only when attempts start: see `_record_start`.)"""
        # One pass over the attempts, and the counts from their latest: this runs at every
        # advance, over every attempt of the execution.
        latest: dict[str, StepRunState] = {}
        input_tokens = output_tokens = model_calls = tool_calls = 0
        cost_usd = tool_seconds = 0.0
        for run in runs:
            input_tokens += run.input_tokens
            output_tokens += run.output_tokens
            cost_usd += run.cost_usd
            model_calls += run.model_calls
            tool_calls += run.tool_calls
            tool_seconds += run.tool_seconds
            known = latest.get(run.step_id)
            if known is None or run.attempt > known.attempt:
                latest[run.step_id] = run
        counts = Counter(r.status for r in latest.values())
        in_flight = (StepRunStatus.PENDING, StepRunStatus.RUNNING)
        current = next(
            (sp.id for sp in plan.steps if sp.id in latest and latest[sp.id].status in in_flight),
            execution.current_step_id,
        )
        ExecutionRepository(session).record_progress(
            execution.id,
            current_step_id=current,
            active_agents=sorted(
                {
                    r.agent_id
                    for r in latest.values()
                    if r.status is StepRunStatus.RUNNING and r.agent_id
                }
            ),
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=cost_usd,
                model_calls=model_calls,
                tool_calls=tool_calls,
                tool_seconds=tool_seconds,
            ),
        )
        EventRepository(session).append(
            execution_id=execution.id,
            user_id=self.owner(session, execution),
            kind=EventKind.EXECUTION_PROGRESS,
            data=ExecutionProgress(
                completed=counts[StepRunStatus.COMPLETED],
                skipped=counts[StepRunStatus.SKIPPED],
                failed=counts[StepRunStatus.FAILED],
                total=len(plan.steps),
                currentStepId=current,
            ),
        )
        if execution.parent_execution_id is None:
            done = counts[StepRunStatus.COMPLETED] + counts[StepRunStatus.SKIPPED]
            WorkflowRepository(session).set_current_step(execution.workflow_id, done)

    def _record_start(
        self, session: Session, execution: WorkflowExecution, started: dict[str, str | None]
    ) -> None:
        """What attempts that started (step -> agent) change of the aggregates: their agents
        join the assignments and the agents at work. Only the in-flight attempts are read,
        few whatever the execution's length. The counts and the current step stay as the
        last advance recorded them (a start only moves a pending attempt, in flight already,
        to running), so no `execution.progress` event either: `step.started` says it."""
        in_flight = StepRunRepository(session).in_flight(execution.id)
        ExecutionRepository(session).record_start(
            execution.id,
            assignments={step: agent for step, agent in started.items() if agent},
            active_agents=sorted(
                {a for _, status, a in in_flight if status is StepRunStatus.RUNNING and a}
            ),
        )

    def _finish(
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
                    user_id=self.owner(session, execution),
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
            user_id=self.owner(session, execution),
            reason=f"the execution ended before a decision ({reason})",
        )
        self._record_progress(session, execution, plan, runs)
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
            user_id=self.owner(session, execution),
            kind=EventKind.EXECUTION_STATUS,
            data=data,
        )
        if not _is_delegation(execution):
            self._finish_workflow(session, ended)
            # The workflow's metrics and its template's success rate follow every outcome.
            record_finished_execution(
                session,
                workflow_id=execution.workflow_id,
                user_id=self.owner(session, execution),
            )
        self.forget(execution.id)
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
            runs.append(_state(run))
            events.append(
                execution_id=execution.id,
                user_id=self.owner(session, execution),
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
            execution.workflow_id, user_id=self.owner(session, execution), lock=True
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

    # --- control ----------------------------------------------------------------------------

    def control(
        self,
        session: Session,
        execution_id: str,
        user_id: str,
        requested: ExecutionStatus,
        *,
        reason: str = "cancelled by the user",
    ) -> tuple[WorkflowExecution, AdvanceResult]:
        """Pause, resume or cancel (for `reason`), along the legal transitions only."""
        repo = ExecutionRepository(session)
        execution = repo.lock(execution_id, user_id=user_id, light=True)
        if requested is ExecutionStatus.CANCELLED:
            if execution.status in TERMINAL_EXECUTION:
                raise IllegalTransition("execution", execution_id, execution.status, requested)
            result = self._cancel(session, execution, reason)
            return repo.get(execution_id), result
        updated = repo.set_status(execution, requested)
        EventRepository(session).append(
            execution_id=execution_id,
            user_id=user_id,
            kind=EventKind.EXECUTION_STATUS,
            data=ExecutionStatusChanged(status=str(requested), previous=str(execution.status)),
        )
        if execution.parent_execution_id is None:
            workflow = repo.workflow(execution.workflow_id, user_id=user_id)
            target = (
                WorkflowStatus.PAUSED
                if requested is ExecutionStatus.PAUSED
                else WorkflowStatus.ACTIVE
            )
            WorkflowRepository(session).set_status(workflow, target)
        result = self.advance(session, execution_id)
        return repo.get(execution_id) if result.finished else updated, result

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
        return self._cancel(session, execution, reason)

    def _cancel(self, session: Session, execution: WorkflowExecution, reason: str) -> AdvanceResult:
        """End a locked, unfinished execution as cancelled, for `reason`."""
        return self._finish(
            session,
            execution,
            self.plan(session, execution),
            StepRunRepository(session).states(execution.id),
            ExecutionStatus.CANCELLED,
            error=reason,
        )

    # --- attempts ---------------------------------------------------------------------------

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
        plan = self.plan(session, execution)
        return AttemptStart(
            "go",
            step_run_id=run.id,
            feedback=run.feedback,
            dependency_results=step_runs.outputs(execution_id, plan.by_id[step_id].deps),
            execution_context=execution.execution_context,
            workflow_id=execution.workflow_id,
            user_id=self.owner(session, execution),
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
                    user_id=self.owner(session, execution),
                    kind=EventKind.STEP_STARTED,
                    step_id=step_id,
                    data=StepStarted(attempt=attempt, agentId=agent_id, reason=reason),
                )
                started[step_id] = agent_id
            if started:
                self._record_start(session, execution, started)
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
                results[by_execution[execution_id][0]] = self._advance(session, execution, known)
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
        plan = self.plan(session, execution)
        events = EventRepository(session)
        user_id = self.owner(session, execution)
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
            return self.advance(session, key[0])
        if self._foreign(run):  # its durable workflow ended: no process runs it any more
            StepRunRepository(session).take_over(run, executor_id=self.executor_id or "")
        return self.finish_attempt(session, key, AttemptOutcome(status="failed", error=reason))


def _agents_for_plan(session: Session, user_id: str) -> dict[str, Agent]:
    """The user's agents as a plan is checked against them when a run starts or goes on:
    without their tool allow-lists, which are checked when the workflow is saved (an agent's
    later edit must not stop a run; at a call an attempt reaches only the declared tools)."""
    return {
        agent.id: agent.model_copy(update={"tools": []})
        for agent in AgentRepository(session).list(user_id=user_id)
    }


def _bounded(*caches: dict[str, Any]) -> None:
    """Empty full caches. Only the process that ends an execution forgets it, so a worker
    would otherwise keep the plan of every execution it ran a step of and another ended; an
    emptied cache refills from the database, one read per execution."""
    if len(caches[0]) >= CACHE_LIMIT:
        for cache in caches:
            cache.clear()


def started_at(execution: WorkflowExecution) -> float:
    """When the execution started, to the sub-second (`started_at` keeps whole seconds, as the
    spec's column does; the definition snapshot records the precise time)."""
    return execution.definition.get("startedAt") or execution.started_at.timestamp()


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


def _is_delegation(execution: WorkflowExecution) -> bool:
    """A delegated sub-task is part of its parent's run, not a run of a workflow."""
    return "delegatedTask" in execution.execution_context


def _state(run: StepRun) -> StepRunState:
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


def _model_report(outcome: AttemptOutcome) -> dict[str, Any]:
    """How the attempt's models answered, for its step run."""
    return {
        "output_mode": outcome.output_mode,
        "validation_retries": outcome.validation_retries,
        "tool_calls": outcome.tool_calls,
    }
