"""The counts the collaboration metrics are made of, counted by the database.

A workflow's metrics cover every run it ever had, and they are kept current whenever one of
its executions ends: counting in SQL keeps that cheap however long the history grows, where
loading every attempt and interaction as a model took longer with every run.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from accord.domain.enums import InteractionType, StepRunStatus
from accord.storage.tables import (
    agent_interactions,
    collaboration_knowledge,
    step_runs,
    workflow_executions,
)


@dataclass
class AgentTally:
    completed: int = 0
    """Completed attempts the agent was assigned."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    """Of the finished attempts the agent was assigned."""


@dataclass
class Tally:
    """Over the executions measured: finished attempts (completed or failed), the steps of
    each execution they tried and completed, interactions and knowledge created."""

    attempts: int = 0
    tried: int = 0
    done: int = 0
    by_agent: dict[str, AgentTally] = field(default_factory=dict)
    """Per agent assigned (attempts with no agent count above, not here)."""
    interactions: int = 0
    asked: int = 0
    """Interactions that required a response."""
    answered: int = 0
    wait_seconds: int = 0
    """Between asking and answering, summed over the answered interactions."""
    senders: set[str] = field(default_factory=set)
    verdicts: list[tuple[str | None, str]] = field(default_factory=list)
    """(agent whose work was reviewed, "approve" or "request_changes") per review."""
    knowledge_created: int = 0


_FINISHED = [StepRunStatus.COMPLETED, StepRunStatus.FAILED]


def top_level_executions(workflow_id: str) -> Select[Any]:
    """Every top-level execution of a workflow, for `count`."""
    we = workflow_executions.c
    return select(we.id).where(we.workflow_id == workflow_id, we.parent_execution_id.is_(None))


def count(session: Session, executions: Select[Any] | list[str]) -> Tally:
    """The tally of the given executions (a list of IDs, or a query of them)."""
    tally = Tally()
    sr = step_runs.c
    runs = session.execute(
        select(
            sr.agent_id,
            sr.status,
            func.count(),
            func.sum(sr.input_tokens),
            func.sum(sr.output_tokens),
            func.sum(sr.cost_usd),
        )
        .where(sr.execution_id.in_(executions), sr.status.in_(_FINISHED))
        .group_by(sr.agent_id, sr.status)
    )
    for agent_id, status, n, input_tokens, output_tokens, cost in runs:
        tally.attempts += n
        if agent_id is None:
            continue
        agent = tally.by_agent.setdefault(agent_id, AgentTally())
        agent.completed += n if status == StepRunStatus.COMPLETED else 0
        agent.input_tokens += input_tokens or 0
        agent.output_tokens += output_tokens or 0
        agent.cost_usd += cost or 0.0
    completed = case((sr.status == StepRunStatus.COMPLETED, 1), else_=0)
    steps = (
        select(func.max(completed).label("completed"))
        .where(sr.execution_id.in_(executions), sr.status.in_(_FINISHED))
        .group_by(sr.execution_id, sr.step_id)
        .subquery()
    )
    tried, done = session.execute(
        select(func.count(), func.coalesce(func.sum(steps.c.completed), 0))
    ).one()
    tally.tried, tally.done = tried, done

    ai = agent_interactions.c
    of_executions = ai.workflow_execution_id.in_(executions)
    answered = ai.responded_at.is_not(None)
    (
        tally.interactions,
        tally.asked,
        tally.answered,
        wait_seconds,
    ) = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((ai.requires_response, 1), else_=0)), 0),
            func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
            func.sum(case((answered, ai.responded_at - ai.created_at), else_=None)),
        ).where(of_executions)
    ).one()
    tally.wait_seconds = wait_seconds or 0
    tally.senders = set(
        session.execute(select(ai.from_agent_id).where(of_executions).distinct()).scalars()
    )
    feedback = session.execute(
        select(ai.to_agent_id, ai.context_data).where(
            of_executions, ai.interaction_type == InteractionType.FEEDBACK
        )
    )
    tally.verdicts = [
        (to_agent, context["review"])
        for to_agent, context in feedback
        if (context or {}).get("review") in ("approve", "request_changes")
    ]
    ck = collaboration_knowledge.c
    tally.knowledge_created = session.execute(
        select(func.count()).where(ck.execution_id.in_(executions))
    ).scalar_one()
    return tally
