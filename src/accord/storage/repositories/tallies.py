"""The counts the collaboration metrics are made of, counted by the database.

An execution's counts include its child executions' (sub-workflows and delegated sub-tasks),
the rule `accord run`'s report follows too. A workflow's metrics cover every run it ever had,
and they are kept current whenever one of its executions ends: attempts, steps and knowledge
are counted in SQL; interactions are read as a few columns each (their context says what kind
of collaboration each one is), never loaded as models.
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
class Acts:
    """The collaboration a team chose, counted from its interactions (see `classify`)."""

    questions: int = 0
    answers: int = 0
    delegations: int = 0
    reviews: int = 0
    feedback: int = 0
    knowledge_shared: int = 0
    knowledge_used: int = 0
    steps: set[tuple[str, str]] = field(default_factory=set)
    """(execution, step) pairs in which at least one of them happened."""
    agents: set[str] = field(default_factory=set)
    """Agents who asked, answered, delegated, reviewed, gave feedback, shared or used knowledge."""
    # Recorded, but not the team's choice:
    assignments: int = 0
    automatic_insights: int = 0
    votes: int = 0
    other: int = 0

    def kinds(self) -> int:
        """How many kinds of collaboration happened (asking and answering are one kind)."""
        return sum(
            n > 0
            for n in (
                self.questions,
                self.delegations,
                self.reviews,
                self.feedback,
                self.knowledge_shared,
                self.knowledge_used,
            )
        )


@dataclass
class Tally:
    """Over the executions measured: finished attempts (completed or failed), the steps of
    each execution they tried and completed, interactions and knowledge created."""

    executions: int = 0
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
    approved_steps: int = 0
    """Completed steps whose last review approved them."""
    knowledge_created: int = 0
    acts: Acts = field(default_factory=Acts)
    delegated_steps: int = 0
    """Steps of delegated sub-task executions: work done for a teammate who asked for it."""


_FINISHED = [StepRunStatus.COMPLETED, StepRunStatus.FAILED]


def top_level_executions(workflow_id: str) -> Select[Any]:
    """Every top-level execution of a workflow, for `count`."""
    we = workflow_executions.c
    return select(we.id).where(we.workflow_id == workflow_id, we.parent_execution_id.is_(None))


def with_descendants(executions: Select[Any] | list[str]) -> Select[Any]:
    """The executions and all their children (sub-workflows, delegated sub-tasks), at any
    depth: an execution's figures always include its children's, as `accord run` reports
    them."""
    we = workflow_executions.c
    family = select(we.id.label("id")).where(we.id.in_(executions)).cte("family", recursive=True)
    family = family.union_all(select(we.id).where(we.parent_execution_id == family.c.id))
    return select(family.c.id)


def classify(
    acts: Acts,
    *,
    kind: str,
    context: dict[str, Any],
    sender: str,
    receiver: str | None,
    responded: bool,
    where: tuple[str, str] | None,
) -> None:
    """Count one interaction row as the collaboration it is, or as what it is not."""
    chosen = True
    if kind == InteractionType.QUESTION:
        acts.questions += 1
        if responded:
            acts.answers += 1
            if receiver is not None:
                acts.agents.add(receiver)
    elif kind == InteractionType.TASK_DELEGATION:
        if "method" in context or context.get("assignment"):
            acts.assignments += 1
            chosen = False
        else:
            acts.delegations += 1
    elif kind == InteractionType.FEEDBACK:
        if context.get("review") in ("approve", "request_changes"):
            acts.reviews += 1
        else:
            acts.feedback += 1
    elif kind == InteractionType.KNOWLEDGE_SHARING:
        if context.get("use"):
            acts.knowledge_used += 1
        elif "knowledgeIds" in context:
            acts.automatic_insights += 1
            chosen = False
        else:
            acts.knowledge_shared += 1
    elif kind == InteractionType.COORDINATION and "choice" in context:
        acts.votes += 1
        chosen = False
    else:
        acts.other += 1
        chosen = False
    if chosen:
        acts.agents.add(sender)
        if where is not None:
            acts.steps.add(where)


def count(session: Session, executions: Select[Any] | list[str]) -> Tally:
    """The tally of the given executions and their descendants (a list of IDs, or a query of
    them)."""
    tally = Tally()
    family = with_descendants(executions)
    we = workflow_executions.c
    contexts = session.execute(select(we.id, we.execution_context).where(we.id.in_(family))).all()
    tally.executions = len(contexts)
    delegated = [e for e, context in contexts if "delegatedTask" in (context or {})]
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
        .where(sr.execution_id.in_(family), sr.status.in_(_FINISHED))
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
        .where(sr.execution_id.in_(family), sr.status.in_(_FINISHED))
        .group_by(sr.execution_id, sr.step_id)
        .subquery()
    )
    tried, done = session.execute(
        select(func.count(), func.coalesce(func.sum(steps.c.completed), 0))
    ).one()
    tally.tried, tally.done = tried, done
    if delegated:
        tally.delegated_steps = session.execute(
            select(func.count()).select_from(
                select(sr.execution_id, sr.step_id)
                .where(sr.execution_id.in_(delegated), sr.status.in_(_FINISHED))
                .distinct()
                .subquery()
            )
        ).scalar_one()

    ai = agent_interactions.c
    rows = session.execute(
        select(
            ai.workflow_execution_id,
            ai.related_step_id,
            ai.interaction_type,
            ai.from_agent_id,
            ai.to_agent_id,
            ai.requires_response,
            ai.created_at,
            ai.responded_at,
            ai.context_data,
        )
        .where(ai.workflow_execution_id.in_(family))
        .order_by(ai.created_at, ai.id)
    )
    last_verdict: dict[tuple[str, str], tuple[int, str]] = {}
    """(attempt, verdict) of each step's latest reviewed attempt."""
    for execution_id, step_id, kind, sender, receiver, required, at, responded_at, ctx in rows:
        context = ctx or {}
        tally.interactions += 1
        tally.senders.add(sender)
        if required:
            tally.asked += 1
        if responded_at is not None:
            tally.answered += 1
            tally.wait_seconds += responded_at - at
        where = (execution_id, step_id) if step_id else None
        classify(
            tally.acts,
            kind=kind,
            context=context,
            sender=sender,
            receiver=receiver,
            responded=responded_at is not None,
            where=where,
        )
        review = context.get("review")
        if kind == InteractionType.FEEDBACK and review in ("approve", "request_changes"):
            tally.verdicts.append((receiver, review))
            attempt = int(context.get("attempt") or 0)
            if where is not None and attempt >= last_verdict.get(where, (0, ""))[0]:
                last_verdict[where] = (attempt, review)
    if last_verdict:
        approved = [where for where, (_, review) in last_verdict.items() if review == "approve"]
        completed_steps = {
            (e, st)
            for e, st in session.execute(
                select(sr.execution_id, sr.step_id).where(
                    sr.execution_id.in_(family), sr.status == StepRunStatus.COMPLETED
                )
            )
        }
        tally.approved_steps = sum(where in completed_steps for where in approved)
    ck = collaboration_knowledge.c
    tally.knowledge_created = session.execute(
        select(func.count()).where(ck.execution_id.in_(family))
    ).scalar_one()
    return tally
