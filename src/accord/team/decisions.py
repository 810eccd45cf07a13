"""Decision steps, decided as `coordination.decisionMaking` says.

- `coordinator`: the coordinator (or, without one, the assigned agent) chooses.
- `majority`: every participant votes once, with a rationale; the most votes win; a tie is
  broken by the coordinator (its own vote if it is among the tied options, else it chooses
  between them); without a coordinator, the tied option listed first wins.
- `consensus`: every participant votes, seeing the previous round's votes, until all agree
  or `consensusRounds` rounds have passed; then `consensusFallback` decides (the
  coordinator, a majority of the last round, or the step fails).

Votes must name one of the step's `decisionOptions` (default approve / reject): anything
else goes back to the voter as a validation error. Every vote and the outcome are
`coordination` interactions, and the result's `data` holds `outcome`, `method`, `rounds` and
`votes`, so a condition can test `decisions.<stepId>.outcome`.
"""

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import create_model
from pydantic_ai.exceptions import UnexpectedModelBehavior

from accord.domain.agent import Agent
from accord.domain.enums import ConsensusFallback, DecisionMaking, InteractionType
from accord.domain.errors import AccordError, ModelFailure
from accord.domain.step_result import StepResult, Vote
from accord.team.attempt import Attempt
from accord.team.prompts import embedded


class NoConsensus(AccordError):
    """A consensus that never converged, in a workflow whose fallback is to fail."""

    code = "no_consensus"


@dataclass(frozen=True)
class Ballot:
    agent: Agent
    vote: Vote
    round: int

    def to_json(self) -> dict[str, Any]:
        return {
            "agentId": self.agent.id,
            "agentName": self.agent.name,
            "choice": self.vote.choice,
            "rationale": self.vote.rationale,
            "round": self.round,
        }


def tally(ballots: list[Ballot], options: tuple[str, ...]) -> list[str]:
    """The options with the most votes, in the order the options are listed."""
    counts = Counter(b.vote.choice for b in ballots)
    top = max(counts.values())
    return [o for o in options if counts.get(o) == top]


class Decision:
    def __init__(self, attempt: Attempt) -> None:
        self.attempt = attempt
        step = attempt.ctx.step
        self.options = step.decision_choices()
        self.ballots: list[Ballot] = []

    @property
    def voters(self) -> list[Agent]:
        return list(self.attempt.team.values())

    @property
    def decider(self) -> Agent:
        return self.attempt.coordinator or self.attempt.agent

    async def run(self) -> StepResult:
        method = self.attempt.coordination.decision_making
        extra: dict[str, Any] = {}
        rounds = 1
        match method:
            case DecisionMaking.COORDINATOR:
                outcome = (await self._vote(self.decider, 1, self.options, method)).choice
            case DecisionMaking.MAJORITY:
                outcome, extra = await self._majority(1)
            case DecisionMaking.CONSENSUS:
                outcome, rounds, extra = await self._consensus()
        data = {
            "outcome": outcome,
            "method": method.value,
            "rounds": rounds,
            "options": list(self.options),
            "votes": [b.to_json() for b in self.ballots],
            **extra,
        }
        await self._record_outcome(data)
        step = self.attempt.ctx.step
        lines = [
            f"- {b.agent.name} (round {b.round}): {b.vote.choice}: {b.vote.rationale}"
            for b in self.ballots
        ]
        return StepResult(
            summary=f"Decision on '{step.name}': {outcome} (by {method.value}).",
            output=f"Outcome: **{outcome}**\n\nVotes:\n" + "\n".join(lines),
            data=data,
            confidence=1.0,
        )

    async def _majority(self, round_no: int) -> tuple[str, dict[str, Any]]:
        ballots = []
        abstained: list[str] = []
        for voter in self.voters:
            try:
                vote = await self._vote(voter, round_no, self.options, DecisionMaking.MAJORITY)
            except (UnexpectedModelBehavior, ModelFailure) as exc:
                if not _no_usable_answer(exc):
                    raise
                # A weak model that names no option abstains; the others still decide.
                abstained.append(voter.id)
                await self.attempt.record(
                    "decision:abstained",
                    sender=voter,
                    kind=InteractionType.COORDINATION,
                    message=f"{voter.name} abstains: its model named none of "
                    f"{', '.join(self.options)}",
                    context={"decision": "majority", "round": round_no, "choice": None},
                )
                continue
            ballots.append(Ballot(voter, vote, round_no))
        if not ballots:
            raise NoConsensus(
                f"No one could vote on '{self.attempt.ctx.step.name}': every voter's model "
                f"named none of {', '.join(self.options)}."
            )
        outcome, extra = await self._winner(ballots)
        return outcome, {**extra, "abstained": abstained} if abstained else extra

    async def _winner(self, ballots: list[Ballot]) -> tuple[str, dict[str, Any]]:
        top = tally(ballots, self.options)
        if len(top) == 1:
            return top[0], {}
        coordinator = self.attempt.coordinator
        if coordinator is None:
            return top[0], {"tie": top, "tieBrokenBy": "option order"}
        own = next((b.vote.choice for b in ballots if b.agent.id == coordinator.id), None)
        if own in top:
            return own, {"tie": top, "tieBrokenBy": coordinator.id}
        choice = (await self._vote(coordinator, ballots[-1].round, tuple(top), "tie-break")).choice
        return choice, {"tie": top, "tieBrokenBy": coordinator.id}

    async def _consensus(self) -> tuple[str, int, dict[str, Any]]:
        rounds = self.attempt.coordination.consensus_rounds
        last: list[Ballot] = []
        for round_no in range(1, rounds + 1):
            last = [
                Ballot(
                    v,
                    await self._vote(
                        v, round_no, self.options, DecisionMaking.CONSENSUS, previous=last
                    ),
                    round_no,
                )
                for v in self.voters
            ]
            choices = {b.vote.choice for b in last}
            if len(choices) == 1:
                return choices.pop(), round_no, {"converged": True}
        fallback = self.attempt.coordination.consensus_fallback
        extra: dict[str, Any] = {"converged": False, "fallback": fallback.value}
        match fallback:
            case ConsensusFallback.COORDINATOR:
                vote = await self._vote(
                    self.decider, rounds, self.options, "fallback", previous=last
                )
                return vote.choice, rounds, extra
            case ConsensusFallback.MAJORITY:
                outcome, tie = await self._winner(last)
                return outcome, rounds, {**extra, **tie}
            case ConsensusFallback.FAIL:
                await self._record_outcome(
                    {
                        "outcome": None,
                        "method": "consensus",
                        "rounds": rounds,
                        **extra,
                        "votes": [b.to_json() for b in self.ballots],
                    }
                )
                raise NoConsensus(
                    f"No consensus on '{self.attempt.ctx.step.name}' after {rounds} rounds, and "
                    "this workflow fails a decision without consensus "
                    "(coordination.consensusFallback: fail)."
                )

    async def _vote(
        self,
        voter: Agent,
        round_no: int,
        options: tuple[str, ...],
        method: DecisionMaking | str,
        *,
        previous: Sequence[Ballot] = (),
    ) -> Vote:
        ctx = self.attempt.ctx
        step = ctx.step
        # The options are known only now: the Literal is built at runtime, so it has no static type.
        choice_type: Any = Literal[options]
        ballot_type = create_model("Ballot", __base__=Vote, choice=(choice_type, ...))
        parts = [f"The team must decide: {step.name}.", step.description, step.instructions]
        if self.attempt.inputs:
            parts.append("## Inputs\n" + json.dumps(self.attempt.inputs, indent=2, default=str))
        if ctx.dependency_results:
            parts.append("## What the team has so far\n" + _evidence(ctx.dependency_results))
        if previous:
            parts.append(
                "## Votes of the previous round\n"
                + "\n".join(
                    f"- {b.agent.name}: {b.vote.choice}: {b.vote.rationale}" for b in previous
                )
            )
        parts.append(
            f"## Your vote\nChoose exactly one of: {', '.join(options)}; weigh the evidence "
            "above and name it in your rationale."
        )
        ballot = await self.attempt.run_model(
            voter,
            output_type=ballot_type,
            prompt="\n\n".join(p for p in parts if p),
            instructions=self.attempt.instructions_for(voter),
        )
        vote = Vote(choice=ballot.choice, rationale=ballot.rationale)
        self.ballots.append(Ballot(voter, vote, round_no))
        label = method.value if isinstance(method, DecisionMaking) else method
        await self.attempt.record(
            "decision:vote",
            sender=voter,
            kind=InteractionType.COORDINATION,
            message=f"{voter.name} votes {vote.choice}: {vote.rationale}",
            context={
                "decision": label,
                "round": round_no,
                "choice": vote.choice,
                "rationale": vote.rationale,
            },
        )
        return vote

    async def _record_outcome(self, data: dict[str, Any]) -> None:
        await self.attempt.record(
            "decision:outcome",
            sender=self.decider,
            kind=InteractionType.COORDINATION,
            message=f"Decision on '{self.attempt.ctx.step.name}': {data['outcome']}",
            context=data,
        )


EVIDENCE_EXCERPT = 1200


def _no_usable_answer(exc: Exception) -> bool:
    """The model answered, but never in a form that names an option (not a provider fault)."""
    return isinstance(exc, UnexpectedModelBehavior) or bool(
        isinstance(exc, ModelFailure) and exc.details.get("noUsableAnswer")
    )


def _evidence(results: Mapping[str, Any]) -> str:
    """The results a decision weighs: each one's summary and the start of its output."""
    chunks = []
    for step_id, result in results.items():
        if isinstance(result, Mapping):
            output = str(result.get("output", ""))
            if len(output) > EVIDENCE_EXCERPT:
                output = output[: EVIDENCE_EXCERPT - 1].rstrip() + "…"
            chunks.append(
                f"### {step_id}\nSummary: {result.get('summary', '')}\n\n{embedded(output)}"
            )
        else:
            chunks.append(f"### {step_id}\n{result}")
    return "\n\n".join(chunks)


async def decide(attempt: Attempt) -> StepResult:
    return await Decision(attempt).run()
