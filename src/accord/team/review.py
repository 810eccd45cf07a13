"""Reviews: a teammate who is not the author checks a result against the step's criteria.

The reviewer is the first participant (other than the author) whose role is the step's
`reviewerRole`; without one, the coordinator if it is not the author; otherwise the first
other participant. A one-agent team cannot review, which is recorded and the result stands.
Each verdict is a `feedback` interaction from the reviewer to the author.
"""

import json

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType
from accord.domain.step_result import ReviewVerdict, StepResult
from accord.team.attempt import Attempt
from accord.team.prompts import agent_instructions


def choose_reviewer(attempt: Attempt, author: Agent) -> Agent | None:
    others = [a for a in attempt.team.values() if a.id != author.id]
    role = (attempt.ctx.step.reviewer_role or "").strip().lower()
    for agent in others:
        if role and agent.role.strip().lower() == role:
            return agent
    coordinator = attempt.coordinator
    if coordinator is not None and coordinator.id != author.id:
        return coordinator
    return others[0] if others else None


async def review_result(attempt: Attempt, result: StepResult) -> ReviewVerdict | None:
    """The reviewer's verdict, recorded; None when nobody but the author could review."""
    ctx = attempt.ctx
    step = ctx.step
    author = attempt.agent
    reviewer = choose_reviewer(attempt, author)
    if reviewer is None:
        await attempt.write(
            "review:skipped",
            lambda records: records.add_interaction(
                execution_id=ctx.execution_id,
                user_id=ctx.user_id,
                from_agent_id=author.id,
                interaction_type=InteractionType.COORDINATION,
                step_id=step.id,
                message=f"'{step.name}' was not reviewed: no teammate other than its author",
                context={"stepId": step.id, "attempt": ctx.attempt, "review": "skipped"},
            ).to_json_dict(),
        )
        return None
    criteria = "\n".join(f"- {c}" for c in step.validation_criteria) or "- fit for purpose"
    prompt = (
        f"Review {author.name}'s result for the step '{step.name}'.\n\n"
        f"Expected output: {step.expected_output or 'not specified'}\n\n"
        f"Validation criteria:\n{criteria}\n\nResult:\n"
        f"{json.dumps(result.to_json_dict(), indent=2)}\n\n"
        "Approve if every criterion is met; otherwise request changes, list the unmet "
        "criteria and say exactly what must change."
    )
    verdict = await attempt.run_model(
        reviewer,
        output_type=ReviewVerdict,
        prompt=prompt,
        instructions=agent_instructions(
            reviewer,
            team=attempt.team.values(),
            style=attempt.coordination.communication_style,
            tools=False,
        ),
    )
    word = "approved" if verdict.verdict == "approve" else "requested changes to"
    await attempt.write(
        "review:verdict",
        lambda records: records.add_interaction(
            execution_id=ctx.execution_id,
            user_id=ctx.user_id,
            from_agent_id=reviewer.id,
            to_agent_id=author.id,
            interaction_type=InteractionType.FEEDBACK,
            step_id=step.id,
            message=f"{reviewer.name} {word} '{step.name}': {verdict.feedback}",
            context={
                "stepId": step.id,
                "attempt": ctx.attempt,
                "review": verdict.verdict,
                "unmetCriteria": verdict.unmet_criteria,
                "authorId": author.id,
            },
        ).to_json_dict(),
    )
    return verdict
