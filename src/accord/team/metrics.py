"""CollaborationMetrics of an execution or a whole workflow, computed from the recorded rows.

Inputs, over the executions measured: the step runs (attempts), the interactions, the
knowledge entries created, and the workflow's participants.

- `totalInteractions`: interaction rows.
- `averageResponseTime`: mean of `respondedAt - createdAt` over answered interactions, in
  minutes (0 when none was answered).
- `knowledgeItemsCreated`: knowledge entries the executions created.

Scores run from 1 to 10: `1 + 9 * r`, with `r` a ratio between 0 and 1, rounded to 0.1.
With `tried` the steps (of each execution) with a finished attempt, `done` those with a
completed one, `attempts` the finished attempts, `approvals` / `rejections` the review
verdicts, `asked` / `answered` the interactions that required a response and those that got
one:

- collaboration: `r = mean(participation, min(1, interactions / (2 * tried)),
  min(1, knowledge / tried))`, where participation is the share of participants who did a
  step or sent an interaction. Two interactions and one knowledge entry per step count as
  a fully collaborative run.
- efficiency: `r = (tried / attempts) * (answered / asked)`: every step right first time and
  every question answered (a factor is 1 when there is nothing to count).
- quality: `r = (done / tried + approvals / (approvals + rejections)) / 2` (the approval
  factor is 1 without reviews).

Nothing tried yet gives 1 everywhere. Per agent: completed steps, review verdicts on its
work (approvals, rejections), and the tokens and cost of the attempts it was assigned (an
attempt's usage includes its review and the answers to its questions).
"""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, StepRunStatus
from accord.domain.execution import StepRun
from accord.domain.interaction import AgentInteraction
from accord.domain.metrics import AgentFigures, CollaborationMetrics
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository

_FINISHED = (StepRunStatus.COMPLETED, StepRunStatus.FAILED)


def _score(ratio: float) -> float:
    return round(1 + 9 * min(1.0, max(0.0, ratio)), 1)


def compute_metrics(
    *,
    participants: list[Agent],
    runs: Iterable[StepRun],
    interactions: list[AgentInteraction],
    knowledge_created: int,
) -> CollaborationMetrics:
    """The formulas of the module docstring over plain rows (no I/O)."""
    finished = [r for r in runs if r.status in _FINISHED]
    tried = {(r.execution_id, r.step_id) for r in finished}
    done = {(r.execution_id, r.step_id) for r in finished if r.status is StepRunStatus.COMPLETED}
    verdicts = [
        i
        for i in interactions
        if i.interaction_type is InteractionType.FEEDBACK
        and (i.context_data or {}).get("review") in ("approve", "request_changes")
    ]
    approvals = sum(1 for v in verdicts if v.context_data["review"] == "approve")
    asked = [i for i in interactions if i.requires_response]
    answered = [i for i in interactions if i.responded_at is not None]
    waits = [(i.responded_at - i.created_at).total_seconds() / 60 for i in answered]

    figures = {a.id: AgentFigures(agent_id=a.id, agent_name=a.name) for a in participants}
    for run in finished:
        if run.agent_id is None:
            continue
        f = figures.setdefault(run.agent_id, AgentFigures(agent_id=run.agent_id))
        f.steps += run.status is StepRunStatus.COMPLETED
        f.input_tokens += run.input_tokens
        f.output_tokens += run.output_tokens
        f.cost_usd += run.cost_usd
    for verdict in verdicts:
        author = verdict.to_agent_id
        if author in figures:
            if verdict.context_data["review"] == "approve":
                figures[author].approvals += 1
            else:
                figures[author].rejections += 1

    metrics = CollaborationMetrics(
        total_interactions=len(interactions),
        average_response_time=round(sum(waits) / len(waits), 3) if waits else 0.0,
        knowledge_items_created=knowledge_created,
        agents=list(figures.values()),
    )
    if not tried:
        return metrics
    active = {r.agent_id for r in finished} | {i.from_agent_id for i in interactions}
    ids = {a.id for a in participants}
    participation = len(active & ids) / len(ids) if ids else 1.0
    collaboration = (
        participation
        + min(1.0, len(interactions) / (2 * len(tried)))
        + min(1.0, knowledge_created / len(tried))
    ) / 3
    first_time = len(tried) / len(finished)
    answer_rate = len(answered) / len(asked) if asked else 1.0
    approval_rate = approvals / len(verdicts) if verdicts else 1.0
    metrics.collaboration_score = _score(collaboration)
    metrics.efficiency_rating = _score(first_time * answer_rate)
    metrics.quality_score = _score((len(done) / len(tried) + approval_rate) / 2)
    return metrics


def _measure(
    session: Session, *, workflow_id: str, user_id: str, execution_ids: list[str]
) -> CollaborationMetrics:
    workflow = WorkflowRepository(session).get(workflow_id, user_id=user_id)
    owned = AgentRepository(session).owned(workflow.participating_agents, user_id=user_id)
    participants = [owned[a] for a in workflow.participating_agents if a in owned]
    runs_repo = StepRunRepository(session)
    runs = [run for e in execution_ids for run in runs_repo.list(e)]
    created = [
        k
        for k in KnowledgeRepository(session).list_for_workflow(workflow_id, include_inactive=True)
        if k.execution_id in set(execution_ids)
    ]
    return compute_metrics(
        participants=participants,
        runs=runs,
        interactions=InteractionRepository(session).list_for_executions(execution_ids),
        knowledge_created=len(created),
    )


def execution_metrics(session: Session, execution_id: str, *, user_id: str) -> CollaborationMetrics:
    execution = ExecutionRepository(session).get(execution_id, user_id=user_id)
    return _measure(
        session, workflow_id=execution.workflow_id, user_id=user_id, execution_ids=[execution_id]
    )


def workflow_metrics(session: Session, workflow_id: str, *, user_id: str) -> CollaborationMetrics:
    """All top-level executions of the workflow together (the spec's getAnalytics)."""
    executions = ExecutionRepository(session).list_for_workflow(workflow_id, user_id=user_id)
    return _measure(
        session,
        workflow_id=workflow_id,
        user_id=user_id,
        execution_ids=[e.id for e in executions if e.parent_execution_id is None],
    )


def record_finished_execution(session: Session, execution_id: str) -> CollaborationMetrics:
    """Keep the aggregates current when an execution ends: its workflow's
    `collaborationMetrics` (over all its runs) and its template's `success_rate`."""
    executions = ExecutionRepository(session)
    execution = executions.get(execution_id)
    user_id = executions.owner(execution_id)
    metrics = workflow_metrics(session, execution.workflow_id, user_id=user_id)
    workflows = WorkflowRepository(session)
    workflows.set_metrics(execution.workflow_id, metrics)
    template_id = workflows.get(execution.workflow_id, user_id=user_id).template_id
    if template_id is not None:
        TemplateRepository(session).refresh_success_rate(template_id)
    return metrics
