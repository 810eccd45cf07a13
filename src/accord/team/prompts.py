"""What an agent is told: pure functions from the agent, the team and the step to text."""

import json
import re
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
            "Collaborate when it serves the work: when you lack something the step needs (an "
            "input, a definition, a decision a teammate made), ask the teammate who knows it "
            "(see 'Who knows what'); delegate a separate sub-task when the step asks for one; "
            "search the team's knowledge and validate a teammate's entry you have checked; "
            "share what later steps must remember (as a decision, constraint, resource, "
            "best_practice or insight); tell a teammate when their result left you a gap. "
            "Do not ask what your inputs already answer."
        )
    lines.append(_STYLE[style])
    return "\n\n".join(lines)


def team_brief(context: Mapping[str, Any], *, coordinator: str | None) -> str:
    """The coordinator's brief of a step (what teammates already found, what they left open)
    and who knows what: from `briefing.team_context`. Empty when there is nothing to say."""
    parts = []
    found = context.get("found") or []
    if found:
        lines = []
        for r in found:
            lines.append(f"- `{r['stepId']}` ({r['agent']}): {r['summary']}")
            lines += [f"  - open point: {q}" for q in r.get("openPoints", [])]
        earlier = context.get("earlierFound") or 0
        if earlier:
            lines.append(
                f"- and {earlier} earlier result{'s' * (earlier != 1)}, not listed: search the "
                "team's knowledge or ask their authors"
            )
        who = f"{coordinator} (coordinator)" if coordinator else "the team's record"
        parts.append(
            f"## Brief from {who}\nWhat teammates already found in this run:\n" + "\n".join(lines)
        )
    mates = context.get("mates") or []
    if mates:
        lines = []
        for mate in mates:
            skills = ", ".join(mate["skills"]) or "general skills"
            known = [f"finished `{r['stepId']}` ({r['stepName']})" for r in mate["results"]]
            if mate.get("earlierResults"):
                known.append(f"{mate['earlierResults']} earlier step(s)")
            known += [
                f"wrote [{k['id']}] {k['title']} ({k['type']}, {k['status']})"
                for k in mate["knowledge"]
            ]
            lines.append(
                f"- {mate['name']} ({mate['role']}; skills: {skills}): "
                + ("; ".join(known) if known else "nothing finished yet")
            )
        parts.append("## Who knows what\n" + "\n".join(lines))
    return "\n\n".join(parts)


def answer_prompt(*, asker: str, step_name: str, question: str, own: Mapping[str, Any]) -> str:
    """What a teammate answers a question from: the question and its own work, nothing else."""
    parts = [
        f"Your teammate {asker} is working on the step '{step_name}' and asks you:\n\n{question}"
    ]
    results = own.get("results") or []
    if results:
        parts.append(
            "## Your results in this run\n"
            + "\n\n".join(
                f"### {r['stepId']}\nSummary: {r['summary']}\n\n{embedded(r['output'])}"
                for r in results
            )
        )
    knowledge = own.get("knowledge") or []
    if knowledge:
        parts.append(
            "## Knowledge you wrote\n"
            + "\n".join(
                f"- [{k['id']}] {k['title']} ({k['type']}): {k['content']}" for k in knowledge
            )
        )
    parts.append(
        "## Your answer\nAnswer briefly from your own work above; where it does not cover the "
        "question, say so and give your best advice as your role."
    )
    return "\n\n".join(parts)


def step_prompt(
    step: WorkflowStep,
    *,
    dependency_results: Mapping[str, Any],
    knowledge: list[CollaborationKnowledge],
    feedback: str | None,
    inputs: Mapping[str, Any],
    brief: str = "",
    authors: Mapping[str, str] | None = None,
    own_tools: Sequence[str] = (),
    workspace: str | None = None,
    unavailable: Sequence[str] = (),
) -> str:
    """The task: the step, what it builds on, what the team knows, what to fix, and the
    tools the agent may use beyond the collaboration tools. `brief`: see `team_brief`;
    `authors`: agent names by ID, to say who wrote each knowledge entry."""
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
                open_points = "".join(f"\n- open point: {q}" for q in result.get("questions") or [])
                results.append(
                    f"### {step_id}\nSummary: {summary}\n\n{embedded(str(output))}{open_points}"
                )
            else:
                results.append(f"### {step_id}\n{result}")
        parts.append("## Results this step builds on\n" + "\n\n".join(results))
    if brief:
        parts.append(brief)
    if knowledge:
        names = authors or {}
        parts.append(
            "## Relevant team knowledge\n"
            + "\n".join(
                f"- [{k.id}] {k.title} (by {names.get(k.created_by_agent_id, 'a teammate')}; "
                f"{k.knowledge_type.value}, {k.status.value}): {k.content}"
                for k in knowledge
            )
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
        "deliverable as output (its findings, the decisions taken, the points still open), "
        "insights worth remembering, open questions. Say where each finding comes from (an "
        "input, a teammate's result, an answer, a knowledge entry by its ID); the team "
        "appends the list of sources you used."
    )
    return "\n\n".join(parts)


def embedded(markdown: str) -> str:
    """Markdown quoted inside a prompt section: its headings moved three levels down (at most
    six), so that they read as part of the section that quotes them, not as new sections."""
    return re.sub(
        r"^(#{1,6})(?=\s)",
        lambda m: "#" * min(6, len(m.group(1)) + 3),
        markdown,
        flags=re.MULTILINE,
    )


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
