"""What an agent is told: pure functions from the agent, the team and the step to text."""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from accord.domain.agent import Agent
from accord.domain.enums import CommunicationStyle
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.workflow import WorkflowStep

_STYLE = {
    CommunicationStyle.FORMAL: "Write formally and precisely, as in a report.",
    CommunicationStyle.CASUAL: "Write plainly and briefly, as to a colleague.",
    CommunicationStyle.TECHNICAL: "Write technically: exact terms, concrete detail, no filler.",
}


def describe_agent(agent: Agent) -> str:
    skills = ", ".join(agent.skills) if agent.skills else "general skills"
    return f"{agent.name} ({agent.role}; skills: {skills})"


def agent_instructions(
    agent: Agent, *, team: Iterable[Agent], style: CommunicationStyle, tools: bool
) -> str:
    """The system part: who the agent is, who its teammates are, how to write."""
    lines = [f"You are {agent.name}, a {agent.role}."]
    if agent.backstory:
        lines.append(agent.backstory)
    if agent.skills:
        lines.append(f"Your skills: {', '.join(agent.skills)}.")
    mates = [describe_agent(a) for a in team if a.id != agent.id]
    lines.append(
        "You work in a team. Your teammates: "
        + ("; ".join(mates) if mates else "none (you work alone)")
        + "."
    )
    if tools:
        lines.append(
            "Use the collaboration tools when they help: share what the team should remember, "
            "search what it already knows, ask a teammate a question, delegate a sub-task, "
            "give a teammate feedback."
        )
    lines.append(_STYLE[style])
    return "\n\n".join(lines)


def step_prompt(
    step: WorkflowStep,
    *,
    dependency_results: Mapping[str, Any],
    knowledge: list[CollaborationKnowledge],
    feedback: str | None,
    inputs: Mapping[str, Any],
    own_tools: Sequence[str] = (),
    workspace: str | None = None,
    unavailable: Sequence[str] = (),
) -> str:
    """The task: the step, what it builds on, what the team knows, what to fix, and the
    tools the agent may use beyond the collaboration tools."""
    parts = [f"# Step: {step.name}"]
    for label, text in (
        ("Description", step.description),
        ("Instructions", step.instructions),
        ("Expected output", step.expected_output),
    ):
        if text:
            parts.append(f"## {label}\n{text}")
    if step.required_skills:
        parts.append("## Required skills\n" + ", ".join(step.required_skills))
    if step.validation_criteria:
        parts.append(
            "## Validation criteria (a reviewer checks these)\n"
            + "\n".join(f"- {c}" for c in step.validation_criteria)
        )
    if inputs:
        parts.append("## Inputs\n" + json.dumps(dict(inputs), indent=2, default=str))
    if dependency_results:
        results = []
        for step_id, result in dependency_results.items():
            if isinstance(result, Mapping):
                summary = result.get("summary", "")
                output = result.get("output", "")
                results.append(f"### {step_id}\nSummary: {summary}\n\n{output}")
            else:
                results.append(f"### {step_id}\n{result}")
        parts.append("## Results this step builds on\n" + "\n\n".join(results))
    if knowledge:
        parts.append(
            "## Relevant team knowledge\n"
            + "\n".join(f"- [{k.id}] {k.title}: {k.content}" for k in knowledge)
        )
    if feedback:
        parts.append("## Reviewer feedback to address in this attempt\n" + feedback)
    if own_tools or unavailable:
        lines = []
        if own_tools:
            lines.append("You may also use these tools: " + ", ".join(own_tools) + ".")
        if workspace:
            lines.append(f"Workspace folder (put the files you produce there): {workspace}")
        lines += [f"Unavailable this time: {why}" for why in unavailable]
        parts.append("## Your tools\n" + "\n".join(lines))
    # A section of its own: under the last heading it would read as part of that section
    # (the offline model quoted it as the end of the expected output).
    parts.append(
        "## Your answer\nDo the step, then answer with the step result: a short summary, the "
        "deliverable as output, insights worth remembering, open questions."
    )
    return "\n\n".join(parts)


def knowledge_query(step: WorkflowStep) -> str:
    """What to look the team's knowledge up by for a step."""
    return " ".join(
        [
            step.name,
            step.description,
            step.instructions,
            step.expected_output,
            *step.required_skills,
        ]
    )
