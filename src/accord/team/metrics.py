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

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.metrics import AgentFigures, CollaborationMetrics
from accord.storage.repositories import tallies
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.tallies import Tally
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository


def _score(ratio: float) -> float:
    return round(1 + 9 * min(1.0, max(0.0, ratio)), 1)


def compute_metrics(*, participants: list[Agent], tally: Tally) -> CollaborationMetrics:
    """The formulas of the module docstring over the counted rows (no I/O)."""
    figures = {a.id: AgentFigures(agent_id=a.id, agent_name=a.name) for a in participants}
    for agent_id, runs in tally.by_agent.items():
        f = figures.setdefault(agent_id, AgentFigures(agent_id=agent_id))
        f.steps += runs.completed
        f.input_tokens += runs.input_tokens
        f.output_tokens += runs.output_tokens
        f.cost_usd += runs.cost_usd
    approvals = 0
    for author, review in tally.verdicts:
        approvals += review == "approve"
        if author in figures:
            if review == "approve":
                figures[author].approvals += 1
            else:
                figures[author].rejections += 1

    metrics = CollaborationMetrics(
        total_interactions=tally.interactions,
        average_response_time=round(tally.wait_seconds / 60 / tally.answered, 3)
        if tally.answered
        else 0.0,
        knowledge_items_created=tally.knowledge_created,
        agents=list(figures.values()),
    )
    if not tally.tried:
        return metrics
    active = set(tally.by_agent) | tally.senders
    ids = {a.id for a in participants}
    participation = len(active & ids) / len(ids) if ids else 1.0
    collaboration = (
        participation
        + min(1.0, tally.interactions / (2 * tally.tried))
        + min(1.0, tally.knowledge_created / tally.tried)
    ) / 3
    first_time = tally.tried / tally.attempts
    answer_rate = tally.answered / tally.asked if tally.asked else 1.0
    approval_rate = approvals / len(tally.verdicts) if tally.verdicts else 1.0
    metrics.collaboration_score = _score(collaboration)
    metrics.efficiency_rating = _score(first_time * answer_rate)
    metrics.quality_score = _score((tally.done / tally.tried + approval_rate) / 2)
    return metrics


def _measure(
    session: Session,
    participating_agents: list[str],
    *,
    user_id: str,
    executions: Select[Any] | list[str],
) -> CollaborationMetrics:
    owned = AgentRepository(session).owned(participating_agents, user_id=user_id)
    participants = [owned[a] for a in participating_agents if a in owned]
    return compute_metrics(participants=participants, tally=tallies.count(session, executions))


def execution_metrics(session: Session, execution_id: str, *, user_id: str) -> CollaborationMetrics:
    execution = ExecutionRepository(session).get(execution_id, user_id=user_id)
    workflow = WorkflowRepository(session).get(execution.workflow_id, user_id=user_id)
    return _measure(
        session, workflow.participating_agents, user_id=user_id, executions=[execution_id]
    )


def workflow_metrics(session: Session, workflow_id: str, *, user_id: str) -> CollaborationMetrics:
    """All top-level executions of the workflow together (the spec's getAnalytics)."""
    workflow = WorkflowRepository(session).get(workflow_id, user_id=user_id)
    return _measure(
        session,
        workflow.participating_agents,
        user_id=user_id,
        executions=tallies.top_level_executions(workflow_id),
    )


def record_finished_execution(
    session: Session, *, workflow_id: str, user_id: str
) -> CollaborationMetrics:
    """Keep the aggregates current when one of the workflow's executions ends: its
    `collaborationMetrics` (over all its runs) and its template's `success_rate`."""
    workflows = WorkflowRepository(session)
    participating_agents, template_id = workflows.team(workflow_id, user_id=user_id)
    metrics = _measure(
        session,
        participating_agents,
        user_id=user_id,
        executions=tallies.top_level_executions(workflow_id),
    )
    workflows.set_metrics(workflow_id, metrics)
    if template_id is not None:
        TemplateRepository(session).refresh_success_rate(template_id)
    return metrics
