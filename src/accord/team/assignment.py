"""Who does a step: the preferred agent, else the coordinator's choice, else the best score.

A decision step is led by the coordinator itself (the team votes; see `decisions`).

Only participants are ever chosen. The coordinator's answer is structured output and is
checked: a name that is not a participant, or an answer that never validates, falls back to
the score and the fallback is recorded. The reason always ends up as a `task_delegation`
interaction.

Score (higher is better), over participants in participation order:
    4 * skills   fraction of the step's required skills the agent has (1 when none required)
  + 2 * role     1 when the agent's role is the step's `assignedAgentRole`, else 0
  + 1 * success  completed / (completed + failed) of the agent's past attempts (0.5 if none)
  - 1 * load     attempts the agent is running right now
Ties go to the agent listed first among the participants.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from pydantic_ai.exceptions import AgentRunError

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, StepType
from accord.domain.errors import ModelFailure
from accord.domain.ports import Assignment
from accord.domain.workflow import WorkflowStep
from accord.team.attempt import Attempt
from accord.team.prompts import describe_agent
from accord.team.records import TeamRecords


class CoordinatorChoice(BaseModel):
    agent: str = Field(description="The chosen teammate's ID or exact name.")
    reason: str = Field(min_length=1, description="Why this teammate, in one sentence.")


@dataclass(frozen=True)
class Score:
    agent: Agent
    total: float
    skills: float
    role: float
    success: float
    load: int


def score_agents(
    step: WorkflowStep, agents: list[Agent], track_records: dict[str, tuple[int, int, int]]
) -> list[Score]:
    """Every agent's score for the step, best first (stable: ties keep the given order)."""
    required = {s.strip().lower() for s in step.required_skills if s.strip()}
    wanted_role = (step.assigned_agent_role or "").strip().lower()
    scores = []
    for agent in agents:
        have = {s.strip().lower() for s in agent.skills}
        skills = len(required & have) / len(required) if required else 1.0
        role = 1.0 if wanted_role and agent.role.strip().lower() == wanted_role else 0.0
        running, completed, failed = track_records.get(agent.id, (0, 0, 0))
        success = completed / (completed + failed) if completed + failed else 0.5
        total = 4 * skills + 2 * role + success - running
        scores.append(Score(agent, total, skills, role, success, running))
    return sorted(scores, key=lambda s: -s.total)


def _best_by_score(attempt: Attempt) -> tuple[Agent, str, dict[str, Any]]:
    agents = list(attempt.team.values())
    with attempt.db.read_session() as session:
        records = TeamRecords(session).agent_track_records([a.id for a in agents])
    ranked = score_agents(attempt.ctx.step, agents, records)
    best = ranked[0]
    reason = (
        f"best score {best.total:.2f} (skills {best.skills:.2f}, role {best.role:.0f}, "
        f"success {best.success:.2f}, load {best.load})"
    )
    scores = {s.agent.id: round(s.total, 3) for s in ranked}
    return best.agent, reason, {"scores": scores}


async def choose_agent(attempt: Attempt) -> Assignment:
    ctx = attempt.ctx
    step = ctx.step
    context: dict[str, Any] = {}
    chosen: Agent | None = None
    coordinator = attempt.coordinator

    if step.preferred_agent_id and step.preferred_agent_id in attempt.team:
        chosen, method = attempt.team[step.preferred_agent_id], "preferred"
        reason = "the step's preferred agent"
    elif coordinator is not None and step.type is StepType.DECISION:
        chosen, method = coordinator, "coordinator"
        reason = "the coordinator leads the team's decisions"
    elif coordinator is not None and len(attempt.team) > 1:
        choice, problem = await _ask_coordinator(attempt, coordinator)
        if choice is not None:
            chosen, method, reason = choice[0], "coordinator", choice[1]
        else:
            chosen, score_reason, extra = _best_by_score(attempt)
            method, reason = "fallback", f"{problem}; fell back to the {score_reason}"
            context.update(extra)
    if chosen is None:
        chosen, reason, extra = _best_by_score(attempt)
        method = "score"
        context.update(extra)
    if step.preferred_agent_id and step.preferred_agent_id not in attempt.team:
        reason += f" (preferred agent {step.preferred_agent_id} does not take part)"

    context.update({"agentId": chosen.id, "method": method})
    recorded = await attempt.record(
        "assign",
        sender=coordinator or chosen,
        to=chosen,
        kind=InteractionType.TASK_DELEGATION,
        message=f"Assigned '{step.name}' to {chosen.name}: {reason}",
        context=context,
    )
    # A replay after a crash gets the interaction recorded the first time: its agent stands,
    # though a choice by score made now (the team's load has changed) could differ.
    agent_id = str(recorded.get("contextData", {}).get("agentId", chosen.id))
    return Assignment(agent_id=agent_id, reason=f"{method}: {reason}")


async def _ask_coordinator(
    attempt: Attempt, coordinator: Agent
) -> tuple[tuple[Agent, str] | None, str]:
    """The coordinator's valid choice, or None and what was wrong with its answer."""
    step = attempt.ctx.step
    roster = "\n".join(f"- id {a.id}: {describe_agent(a)}" for a in attempt.team.values())
    prompt = (
        f"Assign the best teammate for this step.\n\nStep: {step.name}\n"
        f"Description: {step.description}\nInstructions: {step.instructions}\n"
        f"Required skills: {', '.join(step.required_skills) or 'none'}\n"
        f"Role wanted: {step.assigned_agent_role or 'any'}\n\nTeammates:\n{roster}"
    )
    try:
        answer = await attempt.run_model(
            coordinator,
            output_type=CoordinatorChoice,
            prompt=prompt,
            instructions=f"You are {coordinator.name}, the team's coordinator. You assign each "
            "step to one teammate from the list, and only from the list.",
        )
    except (AgentRunError, ModelFailure) as exc:
        return None, f"the coordinator's answer could not be used ({exc})"
    chosen = attempt.find_teammate(answer.agent)
    if chosen is None:
        return None, f"the coordinator chose {answer.agent!r}, who is not a participant"
    return (chosen, f"chosen by the coordinator {coordinator.name}: {answer.reason}"), ""
