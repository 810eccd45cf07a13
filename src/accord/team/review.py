"""Reviews: teammates who are not the author check a result against the step's criteria.

Who reviews follows `coordination.decisionMaking`:
- `coordinator` (the default): one reviewer, the first participant other than the author
  whose role is the step's `reviewerRole`; without one, the coordinator if it is not the
  author; otherwise the first other participant.
- `majority` and `consensus`: a panel, every participant other than the author with the
  `reviewerRole` (everyone else when the step names no role, or nobody has it). `majority`
  approves when more than half approve, a tie going the coordinator's way if it sat on the
  panel and to a request for changes otherwise; `consensus` approves only if all approve.
A one-agent team cannot review, which is recorded and the result stands. Each verdict is a
`feedback` interaction from its reviewer to the author; the changes asked for are combined.
"""

import json
from dataclasses import dataclass

from pydantic_ai.exceptions import UnexpectedModelBehavior

from accord.domain.agent import Agent
from accord.domain.enums import DecisionMaking, InteractionType
from accord.domain.errors import ModelFailure
from accord.domain.step_result import ReviewVerdict, StepResult
from accord.team.attempt import Attempt


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


def choose_panel(attempt: Attempt, author: Agent) -> list[Agent]:
    """Everyone but the author with the reviewer role (everyone but the author without one)."""
    others = [a for a in attempt.team.values() if a.id != author.id]
    role = (attempt.ctx.step.reviewer_role or "").strip().lower()
    with_role = [a for a in others if role and a.role.strip().lower() == role]
    return with_role or others


@dataclass(frozen=True)
class Review:
    verdict: ReviewVerdict
    reviewer_ids: list[str]
    """Who reviewed (the whole panel, whatever each one's verdict)."""


async def review_result(attempt: Attempt, result: StepResult) -> Review | None:
    """The review's verdict, each reviewer's recorded; None when only the author could
    review."""
    ctx = attempt.ctx
    step = ctx.step
    author = attempt.agent
    method = attempt.coordination.decision_making
    if method is DecisionMaking.COORDINATOR:
        reviewer = choose_reviewer(attempt, author)
        reviewers = [reviewer] if reviewer is not None else []
    else:
        reviewers = choose_panel(attempt, author)
    if not reviewers:
        await attempt.record(
            "review:skipped",
            sender=author,
            kind=InteractionType.COORDINATION,
            message=f"'{step.name}' was not reviewed: no teammate other than its author",
            context={"review": "skipped"},
        )
        return None
    given = [(r, await _review_by(attempt, r, author, result)) for r in reviewers]
    verdicts = [(r, v) for r, v in given if v is not None]
    if not verdicts:
        return None  # every reviewer's model failed to give a verdict: the result stands
    ids = [r.id for r, _ in verdicts]
    if len(verdicts) == 1:
        return Review(verdicts[0][1], ids)
    return Review(_panel_verdict(attempt, method, verdicts), ids)


def _panel_verdict(
    attempt: Attempt, method: DecisionMaking, verdicts: list[tuple[Agent, ReviewVerdict]]
) -> ReviewVerdict:
    approvals = sum(v.verdict == "approve" for _, v in verdicts)
    if method is DecisionMaking.CONSENSUS:
        approved = approvals == len(verdicts)
    elif 2 * approvals == len(verdicts):
        coordinator = attempt.coordinator
        own = [v for r, v in verdicts if coordinator is not None and r.id == coordinator.id]
        approved = bool(own) and own[0].verdict == "approve"
    else:
        approved = 2 * approvals > len(verdicts)
    if approved:
        return ReviewVerdict(
            verdict="approve", feedback="; ".join(f"{r.name}: {v.feedback}" for r, v in verdicts)
        )
    changes = [(r, v) for r, v in verdicts if v.verdict == "request_changes"]
    return ReviewVerdict(
        verdict="request_changes",
        feedback="\n".join(f"{r.name}: {v.feedback}" for r, v in changes),
        unmet_criteria=list(dict.fromkeys(c for _, v in changes for c in v.unmet_criteria)),
    )


async def _review_by(
    attempt: Attempt, reviewer: Agent, author: Agent, result: StepResult
) -> ReviewVerdict | None:
    ctx = attempt.ctx
    step = ctx.step
    criteria = "\n".join(f"- {c}" for c in step.validation_criteria) or "- fit for purpose"
    prompt = (
        f"Review {author.name}'s result for the step '{step.name}'.\n\n"
        f"Expected output: {step.expected_output or 'not specified'}\n\n"
        f"Validation criteria:\n{criteria}\n\nResult:\n"
        f"{json.dumps(result.to_json_dict(), indent=2)}\n\n"
        "Approve if every criterion is met; otherwise request changes, list the unmet "
        "criteria and say exactly what must change."
    )
    try:
        verdict = await attempt.run_model(
            reviewer,
            output_type=ReviewVerdict,
            prompt=prompt,
            instructions=attempt.instructions_for(reviewer),
        )
    except (UnexpectedModelBehavior, ModelFailure) as exc:
        if isinstance(exc, ModelFailure) and not exc.details.get("noUsableAnswer"):
            raise  # the provider is down or refuses: another attempt may fare better
        # A weak model that cannot say approve or request changes must not fail the work it
        # was asked to judge: the result stands unreviewed, and the record says why.
        why = exc.message if isinstance(exc, UnexpectedModelBehavior) else str(exc)
        await attempt.record(
            "review:no_verdict",
            sender=reviewer,
            to=author,
            kind=InteractionType.COORDINATION,
            message=f"{reviewer.name} could not review '{step.name}': its model gave no "
            f"usable verdict ({why[:300]})",
            context={"review": "no_verdict", "authorId": author.id},
        )
        return None
    word = "approved" if verdict.verdict == "approve" else "requested changes to"
    await attempt.record(
        "review:verdict",
        sender=reviewer,
        to=author,
        kind=InteractionType.FEEDBACK,
        message=f"{reviewer.name} {word} '{step.name}': {verdict.feedback}",
        context={
            "review": verdict.verdict,
            "unmetCriteria": verdict.unmet_criteria,
            "authorId": author.id,
        },
    )
    return verdict
