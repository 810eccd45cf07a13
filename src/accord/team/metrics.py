"""CollaborationMetrics of an execution or a whole workflow, computed from the recorded rows.

Inputs, over the executions measured and their child executions (sub-workflows, delegated
sub-tasks; `accord run` counts the same way): the step runs (attempts), the interactions,
the knowledge entries created, and the workflow's participants.

- `totalInteractions`: interaction rows, of every kind.
- `averageResponseTime`: mean of `respondedAt - createdAt` over answered interactions, in
  minutes (0 when none was answered).
- `knowledgeItemsCreated`: knowledge entries the executions created.

Scores run from 1 to 10: `1 + 9 * r`, with `r` a ratio between 0 and 1, rounded to 0.1.
`evidence` holds, per score, the counts it was computed from and its formula.

Collaboration counts only what the team chose to do: questions asked (and answered),
sub-tasks delegated, reviews, feedback, knowledge shared with the tool, and teammates'
knowledge used (searched or validated). What the engine records on its own (who was assigned
a step, the copy of a result's insights into the knowledge base) and the votes a decision
step imposes are shown as `notCounted`. With `steps` the steps tried (of each execution),
`involved` those in which any of these happened (a delegated sub-task's own step counts:
it is work done for a teammate), `kinds` the kinds that happened (asking, delegating,
reviewing, feedback, sharing, using knowledge) and `collaborators` the participants who did
any of them (answering a question included):

    collaboration r = (involved / steps + min(1, kinds / 3) + collaborators / participants) / 3

so a team that works side by side in silence scores 1, and one that asks, answers, reviews
and builds on each other's knowledge in every step scores 10.

With `attempts` the finished attempts and `asked` / `answered` the interactions that
required a response and those that got one:

    efficiency r = (steps / attempts) * (answered / asked)      (1 when nothing was asked)

With `completed` the steps completed and `approved` those whose last review approved them:

    quality r = (completed / steps) * (1 + approved / completed) / 2

work nobody reviewed reaches at most 5.5: it may be right, but nobody checked. Nothing tried
yet gives 1 everywhere. Per agent: completed steps, review verdicts on its work (approvals,
rejections), and the tokens and cost of the attempts it was assigned (an attempt's usage
includes its review and the answers to its questions).
"""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.metrics import (
    AgentFigures,
    CollaborationMetrics,
    MetricsEvidence,
    ScoreEvidence,
)
from accord.storage.repositories import tallies
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.tallies import Tally
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.workflows import WorkflowRepository

COLLABORATION_FORMULA = (
    "1 + 9 * (involved / steps + min(1, kinds / 3) + collaborators / participants) / 3"
)
EFFICIENCY_FORMULA = "1 + 9 * (steps / attempts) * (answered / asked)"
QUALITY_FORMULA = "1 + 9 * (completed / steps) * (1 + approved / completed) / 2"
FULL_BREADTH = 3
"""Kinds of collaboration that make a run fully varied."""


def _score(ratio: float) -> float:
    return round(1 + 9 * min(1.0, max(0.0, ratio)), 1)


def _evidence(participants: list[Agent], tally: Tally) -> MetricsEvidence:
    acts = tally.acts
    ids = {a.id for a in participants}
    involved = len(acts.steps) + tally.delegated_steps
    return MetricsEvidence(
        executions=tally.executions,
        collaboration=ScoreEvidence(
            counts={
                "steps": tally.tried,
                "involved": min(involved, tally.tried),
                "questions": acts.questions,
                "answers": acts.answers,
                "delegations": acts.delegations,
                "reviews": acts.reviews,
                "feedback": acts.feedback,
                "knowledgeShared": acts.knowledge_shared,
                "knowledgeUsed": acts.knowledge_used,
                "kinds": acts.kinds(),
                "participants": len(ids),
                "collaborators": len(acts.agents & ids),
            },
            formula=COLLABORATION_FORMULA,
            not_counted={
                "assignments": acts.assignments,
                "automaticInsights": acts.automatic_insights,
                "votes": acts.votes,
                "otherCoordination": acts.other,
            },
        ),
        efficiency=ScoreEvidence(
            counts={
                "steps": tally.tried,
                "attempts": tally.attempts,
                "asked": tally.asked,
                "answered": tally.answered,
            },
            formula=EFFICIENCY_FORMULA,
        ),
        quality=ScoreEvidence(
            counts={
                "steps": tally.tried,
                "completed": tally.done,
                "approved": tally.approved_steps,
                "approvals": sum(v == "approve" for _, v in tally.verdicts),
                "changeRequests": sum(v == "request_changes" for _, v in tally.verdicts),
            },
            formula=QUALITY_FORMULA,
        ),
    )


def compute_metrics(
    *, participants: list[Agent], tally: Tally, names: dict[str, str] | None = None
) -> CollaborationMetrics:
    """The formulas of the module docstring over the counted rows (no I/O). `names`: agents
    outside the participants (a nested team's) by ID."""
    figures = {a.id: AgentFigures(agent_id=a.id, agent_name=a.name) for a in participants}
    for agent_id, runs in tally.by_agent.items():
        f = figures.setdefault(
            agent_id, AgentFigures(agent_id=agent_id, agent_name=(names or {}).get(agent_id))
        )
        f.steps += runs.completed
        f.input_tokens += runs.input_tokens
        f.output_tokens += runs.output_tokens
        f.cost_usd += runs.cost_usd
    for author, review in tally.verdicts:
        if author in figures:
            if review == "approve":
                figures[author].approvals += 1
            else:
                figures[author].rejections += 1

    evidence = _evidence(participants, tally)
    metrics = CollaborationMetrics(
        total_interactions=tally.interactions,
        average_response_time=round(tally.wait_seconds / 60 / tally.answered, 3)
        if tally.answered
        else 0.0,
        knowledge_items_created=tally.knowledge_created,
        agents=list(figures.values()),
        evidence=evidence,
    )
    if not tally.tried:
        return metrics
    c = evidence.collaboration.counts
    participation = c["collaborators"] / c["participants"] if c["participants"] else 0.0
    collaboration = (
        c["involved"] / c["steps"] + min(1.0, c["kinds"] / FULL_BREADTH) + participation
    ) / 3
    first_time = tally.tried / tally.attempts
    answer_rate = tally.answered / tally.asked if tally.asked else 1.0
    checked = tally.approved_steps / tally.done if tally.done else 0.0
    metrics.collaboration_score = _score(collaboration)
    metrics.efficiency_rating = _score(first_time * answer_rate)
    metrics.quality_score = _score(tally.done / tally.tried * (1 + checked) / 2)
    return metrics


def _measure(
    session: Session,
    participating_agents: list[str],
    *,
    user_id: str,
    executions: Select[Any] | list[str],
) -> CollaborationMetrics:
    tally = tallies.count(session, executions)
    owned = AgentRepository(session).owned(
        [*participating_agents, *tally.by_agent], user_id=user_id
    )
    participants = [owned[a] for a in participating_agents if a in owned]
    names = {a.id: a.name for a in owned.values()}
    return compute_metrics(participants=participants, tally=tally, names=names)


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
