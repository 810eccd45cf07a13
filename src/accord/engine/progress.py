"""An execution's aggregates (counts, usage, current step, agents at work), rebuilt from its
step runs as it advances and as its attempts start."""

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.orm import Session

from accord.domain.enums import StepRunStatus
from accord.domain.events import EventKind, ExecutionProgress
from accord.domain.execution import Usage, WorkflowExecution
from accord.domain.plan import WorkflowPlan
from accord.engine.execution_facts import ExecutionFacts
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository, StepRunState
from accord.storage.repositories.workflows import WorkflowRepository


def record_progress(
    session: Session,
    facts: ExecutionFacts,
    execution: WorkflowExecution,
    plan: WorkflowPlan,
    runs: Sequence[StepRunState],
) -> None:
    """Rebuild the aggregates from the step runs: never a read-modify-write of a copy.
    (`agent_assignments` changes only when attempts start: see `record_start`.)"""
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
        user_id=facts.owner(session, execution),
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


def record_start(
    session: Session, execution: WorkflowExecution, started: dict[str, str | None]
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
