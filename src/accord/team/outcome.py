"""What an execution came to, read from the recorded rows once it has ended: its steps'
latest attempts, the team's interactions and knowledge, usage and metrics. Child executions
(sub-workflows, delegated tasks) count toward the totals.

`accord run --json` prints it as JSON; the Python library returns it typed.
"""

from dataclasses import dataclass
from functools import reduce
from pathlib import Path

from accord.domain.enums import ExecutionStatus
from accord.domain.errors import Conflict
from accord.domain.execution import StepRun, Usage, WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.metrics import CollaborationMetrics
from accord.domain.workspace import WorkspaceFile
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.metrics import execution_metrics
from accord.tools.workspace_folder import list_files, locate_workspace


@dataclass(frozen=True)
class ExecutionOutcome:
    execution: WorkflowExecution
    family: list[WorkflowExecution]
    """The execution, then its descendants (child executions, theirs, ...)."""
    step_runs: list[StepRun]
    """Every attempt of the execution's own steps."""
    agent_names: dict[str, str]
    interactions: list[AgentInteraction]
    knowledge: list[CollaborationKnowledge]
    """Entries the execution and its descendants created (superseded ones included)."""
    metrics: CollaborationMetrics
    workspace: Path
    """The execution's workspace folder."""
    files: list[WorkspaceFile]
    """What the team left in it (its children's included), with who wrote each when known."""

    @property
    def usage(self) -> Usage:
        """Tokens and cost of the execution and its descendants."""
        return reduce(lambda total, e: total + e.usage, self.family[1:], self.execution.usage)

    def latest_runs(self) -> dict[str, StepRun | None]:
        """Each step's latest attempt (None: never tried), the definition's steps first."""
        latest: dict[str, StepRun] = {}
        for run in self.step_runs:
            if run.step_id not in latest or run.attempt > latest[run.step_id].attempt:
                latest[run.step_id] = run
        defined = (self.execution.definition.get("configuration") or {}).get("steps") or []
        ids = [s["id"] for s in defined]
        return {step_id: latest.get(step_id) for step_id in ids + sorted(set(latest) - set(ids))}


def read_outcome(database: Database, execution_id: str, user_id: str) -> ExecutionOutcome:
    with database.session() as session:
        executions = ExecutionRepository(session)
        execution = executions.get(execution_id, user_id=user_id)
        family = [execution]
        for member in family:
            family.extend(executions.children(member.id))
        ids = {e.id for e in family}
        knowledge = [
            k
            for workflow_id in {e.workflow_id for e in family}
            for k in KnowledgeRepository(session).list_for_workflow(
                workflow_id, include_inactive=True
            )
            if k.execution_id in ids
        ]
        return ExecutionOutcome(
            execution=execution,
            family=family,
            step_runs=StepRunRepository(session).list(execution.id),
            agent_names={a.id: a.name for a in AgentRepository(session).list(user_id=user_id)},
            interactions=InteractionRepository(session).list_for_executions(e.id for e in family),
            knowledge=knowledge,
            metrics=execution_metrics(session, execution.id, user_id=user_id),
            workspace=locate_workspace(session, execution.id).root,
            files=list_files(session, execution.id),
        )


def unfinished_execution(
    database: Database, workflow_id: str, user_id: str
) -> WorkflowExecution | None:
    """The workflow's running execution, if one has not ended (a run cut off by a crash);
    a paused one is the user's to resume or cancel, not this command's."""
    with database.read_session() as session:
        for execution in ExecutionRepository(session).list_for_workflow(
            workflow_id, user_id=user_id
        ):
            if execution.status is ExecutionStatus.PAUSED:
                raise Conflict(
                    f"execution #{execution.execution_number} of this workflow is paused: "
                    "resume or cancel it (in the browser, or through the API) first",
                    details={"id": execution.id},
                )
            if execution.status is ExecutionStatus.RUNNING:
                return execution
    return None
