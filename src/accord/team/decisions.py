"""Decision steps, decided as `coordination.decisionMaking` says.

- `coordinator`: the coordinator (or, without one, the assigned agent) chooses.
- `majority`: every participant votes once, with a rationale; the most votes win; a tie is
  broken by the coordinator (its own vote if it is among the tied options, else it chooses
  between them); without a coordinator, the tied option listed first wins.
- `consensus`: every participant votes, seeing the previous round's votes, until all agree
  or `consensusRounds` rounds have passed; then `consensusFallback` decides (the
  coordinator, a majority of the last round, or the step fails).

Votes must name one of the step's `decisionOptions` (default approve / reject): anything
else goes back to the voter as a validation error. A voter whose model still names none
abstains, and the others decide. When no one could vote (every voter abstained, or the one
who must choose did), the step does not fail: the decision follows the evidence, read
deterministically from the inputs and earlier results (`decidedBy: evidence`, with the
sentences that weighed), or, when the evidence favours no option, the first option listed
(`decidedBy: first option`). Every vote and the outcome are `coordination` interactions,
and the result's `data` holds `outcome`, `method`, `rounds` and `votes`, so a condition can
test `decisions.<stepId>.outcome`.
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
from accord.llm.offline_reading import weigh
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
        self.abstained: list[str] = []

    @property
    def voters(self) -> list[Agent]:
        return list(self.attempt.team.values())

    @property
    def decider(self) -> Agent:
        return self.attempt.coordinator or self.attempt.agent

    async def run(self) -> StepResult:
        method = self.attempt.coordination.decision_making
        rounds = 1
        match method:
            case DecisionMaking.COORDINATOR:
                outcome, extra = await self._chosen_by(self.decider, 1, method)
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
        if self.abstained:
            data["abstained"] = self.abstained
        await self._record_outcome(data)
        step = self.attempt.ctx.step
        lines = [
            f"- {b.agent.name} (round {b.round}): {b.vote.choice}: {b.vote.rationale}"
            for b in self.ballots
        ]
        output = f"Outcome: **{outcome}**\n\nVotes:\n" + ("\n".join(lines) or "- none")
        if "decidedBy" in extra:
            output += "\n\n" + _decided_without_votes(extra)
        return StepResult(
            summary=f"Decision on '{step.name}': {outcome} (by {method.value}).",
            output=output,
            data=data,
            # A decision read from the evidence, not voted on, is less certain.
            confidence=0.5 if "decidedBy" in extra else 1.0,
        )

    async def _chosen_by(
        self,
        agent: Agent,
        round_no: int,
        method: DecisionMaking | str,
        *,
        previous: Sequence[Ballot] = (),
    ) -> tuple[str, dict[str, Any]]:
        """The option one agent chooses, or the evidence's if its model names none."""
        ballot = await self._ballot(agent, round_no, self.options, method, previous=previous)
        return (ballot.vote.choice, {}) if ballot else await self._by_evidence()

    async def _round(
        self, round_no: int, method: DecisionMaking, *, previous: Sequence[Ballot] = ()
    ) -> list[Ballot]:
        """Every voter's ballot in one round, those who abstained left out."""
        ballots = []
        for voter in self.voters:
            ballot = await self._ballot(voter, round_no, self.options, method, previous=previous)
            if ballot is not None:
                ballots.append(ballot)
        return ballots

    async def _majority(self, round_no: int) -> tuple[str, dict[str, Any]]:
        ballots = await self._round(round_no, DecisionMaking.MAJORITY)
        return await self._winner(ballots) if ballots else await self._by_evidence()

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
        tie_break = await self._ballot(coordinator, ballots[-1].round, tuple(top), "tie-break")
        if tie_break is None:
            return top[0], {"tie": top, "tieBrokenBy": "option order"}
        return tie_break.vote.choice, {"tie": top, "tieBrokenBy": coordinator.id}

    async def _consensus(self) -> tuple[str, int, dict[str, Any]]:
        rounds = self.attempt.coordination.consensus_rounds
        last: list[Ballot] = []
        for round_no in range(1, rounds + 1):
            ballots = await self._round(round_no, DecisionMaking.CONSENSUS, previous=last)
            if not ballots:
                outcome, extra = await self._by_evidence()
                return outcome, round_no, extra
            last = ballots
            # Those who abstain cannot disagree: the ones who voted decide.
            choices = {b.vote.choice for b in last}
            if len(choices) == 1:
                return choices.pop(), round_no, {"converged": True}
        fallback = self.attempt.coordination.consensus_fallback
        extra = {"converged": False, "fallback": fallback.value}
        match fallback:
            case ConsensusFallback.COORDINATOR:
                outcome, chosen = await self._chosen_by(
                    self.decider, rounds, "fallback", previous=last
                )
                return outcome, rounds, {**extra, **chosen}
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

    async def _by_evidence(self) -> tuple[str, dict[str, Any]]:
        """No one could vote (every model named none of the options): the step still decides,
        by reading the evidence without a model, and says so."""
        weighing = weigh(self.options, self._evidence_text())
        if weighing.choice is None:
            return self.options[0], {"decidedBy": "first option", "evidence": []}
        return weighing.choice, {
            "decidedBy": "evidence",
            "evidence": weighing.evidence[weighing.choice][:EVIDENCE_SENTENCES],
        }

    def _evidence_text(self) -> str:
        parts = []
        if self.attempt.inputs:
            parts.append(json.dumps(self.attempt.inputs, default=str))
        parts.append(_evidence(self.attempt.ctx.dependency_results))
        return "\n\n".join(parts)

    async def _ballot(
        self,
        voter: Agent,
        round_no: int,
        options: tuple[str, ...],
        method: DecisionMaking | str,
        *,
        previous: Sequence[Ballot] = (),
    ) -> Ballot | None:
        """The voter's ballot, or None when its model named no option: it abstains."""
        label = method.value if isinstance(method, DecisionMaking) else method
        try:
            return await self._vote(voter, round_no, options, label, previous=previous)
        except (UnexpectedModelBehavior, ModelFailure) as exc:
            if not _no_usable_answer(exc):
                raise
        if voter.id not in self.abstained:
            self.abstained.append(voter.id)
        await self.attempt.record(
            "decision:abstained",
            sender=voter,
            kind=InteractionType.COORDINATION,
            message=f"{voter.name} abstains: its model named none of {', '.join(options)}",
            context={"decision": label, "round": round_no, "choice": None},
        )
        return None

    async def _vote(
        self,
        voter: Agent,
        round_no: int,
        options: tuple[str, ...],
        label: str,
        *,
        previous: Sequence[Ballot],
    ) -> Ballot:
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
        answer = await self.attempt.run_model(
            voter,
            output_type=ballot_type,
            prompt="\n\n".join(p for p in parts if p),
            instructions=self.attempt.instructions_for(voter),
        )
        ballot = Ballot(voter, Vote(choice=answer.choice, rationale=answer.rationale), round_no)
        self.ballots.append(ballot)
        await self.attempt.record(
            "decision:vote",
            sender=voter,
            kind=InteractionType.COORDINATION,
            message=f"{voter.name} votes {ballot.vote.choice}: {ballot.vote.rationale}",
            context={
                "decision": label,
                "round": round_no,
                "choice": ballot.vote.choice,
                "rationale": ballot.vote.rationale,
            },
        )
        return ballot

    async def _record_outcome(self, data: dict[str, Any]) -> None:
        message = f"Decision on '{self.attempt.ctx.step.name}': {data['outcome']}"
        if "decidedBy" in data:
            message += f". {_decided_without_votes(data)}"
        await self.attempt.record(
            "decision:outcome",
            sender=self.decider,
            kind=InteractionType.COORDINATION,
            message=message,
            context=data,
        )


EVIDENCE_EXCERPT = 1200
EVIDENCE_SENTENCES = 3


def _decided_without_votes(data: Mapping[str, Any]) -> str:
    """Why a decision no one could vote on came out as it did."""
    if data["decidedBy"] == "evidence":
        return "No model named an option, so the evidence decided:\n" + "\n".join(
            f"- {sentence}" for sentence in data["evidence"]
        )
    return (
        "No model named an option and the evidence favours none, so the first option listed stands."
    )


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
