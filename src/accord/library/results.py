"""What a run returns: `RunResult`, with a `StepOutcome` per step."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.domain.execution import StepRun, Usage
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.metrics import CollaborationMetrics
from accord.domain.step_result import StepResult
from accord.domain.workspace import WorkspaceFile
from accord.team import ExecutionOutcome

StepStatus = Literal["pending", "running", "completed", "failed", "skipped", "cancelled"]


@dataclass(frozen=True, kw_only=True)
class StepOutcome:
    """A step's latest attempt: who did it, how it ended, and its structured result."""

    step_id: str
    status: StepStatus
    """`pending` when the step never ran."""
    agent: str | None
    """The name of the agent that made the latest attempt."""
    attempts: int
    result: StepResult | None
    """What the agent returned (summary, output, insights, questions, confidence, data);
    for a decision step `data` holds its `outcome` and `votes`."""
    error: str | None
    """Why it failed, or why it was skipped or cancelled."""
    usage: Usage
    """Tokens and cost of the latest attempt."""


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What an execution came to, read from its records once it ended."""

    execution_id: str
    workflow_id: str
    execution_number: int
    status: ExecutionStatus
    error: str | None
    deliverable: str | None
    """The team's deliverable in markdown (the execution's `deliverable`: the output of the
    last completed steps), None if there is none."""
    final_output: dict[str, Any] | None
    """The final steps' results, by step ID, as stored on the execution."""
    steps: dict[str, StepOutcome]
    """Every step of the definition, in its order."""
    interactions: list[AgentInteraction]
    """Questions and answers, delegations, feedback, votes, shared knowledge: oldest first,
    child executions' included."""
    knowledge: list[CollaborationKnowledge]
    """Entries the team created during the run (superseded ones included)."""
    usage: Usage
    """Tokens, cost and model calls of the execution and its child executions."""
    metrics: CollaborationMetrics
    workspace: Path
    """The execution's workspace folder: what the team produces lives there."""
    files: list[WorkspaceFile]
    """The files in it, each with the step and agent that last wrote it when known."""
    duration_s: float | None
    child_executions: int

    @property
    def completed(self) -> bool:
        """Whether the execution completed."""
        return self.status is ExecutionStatus.COMPLETED


def run_result(outcome: ExecutionOutcome) -> RunResult:
    execution, names = outcome.execution, outcome.agent_names
    steps = {
        step_id: _step_outcome(step_id, run, names)
        for step_id, run in outcome.latest_runs().items()
    }
    final = execution.final_output if isinstance(execution.final_output, dict) else None
    deliverable = execution.deliverable.markdown if execution.deliverable else None
    return RunResult(
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        execution_number=execution.execution_number,
        status=execution.status,
        error=execution.error_message,
        deliverable=deliverable,
        final_output=final,
        steps=steps,
        interactions=outcome.interactions,
        knowledge=outcome.knowledge,
        usage=outcome.usage,
        metrics=outcome.metrics,
        workspace=outcome.workspace,
        files=outcome.files,
        duration_s=execution.actual_duration,
        child_executions=len(outcome.family) - 1,
    )


def _step_outcome(step_id: str, run: StepRun | None, names: dict[str, str]) -> StepOutcome:
    if run is None:
        return StepOutcome(
            step_id=step_id,
            status="pending",
            agent=None,
            attempts=0,
            result=None,
            error=None,
            usage=Usage(),
        )
    result = None
    if run.status is StepRunStatus.COMPLETED and run.output:
        result = StepResult.model_validate(run.output)
    return StepOutcome(
        step_id=step_id,
        status=run.status.value,
        agent=names.get(run.agent_id, run.agent_id) if run.agent_id else None,
        attempts=0 if run.status.value == "skipped" else run.attempt,
        result=result,
        error=run.error,
        usage=Usage(
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=run.cost_usd,
            model_calls=run.model_calls,
        ),
    )
