"""What the team reads and writes, over the storage repositories, in one session.

The team's rule is that every interaction it records comes with its `interaction.*` event
in the same transaction (see docs/contracts.md); this is the one place that pairs them. The
two aggregate reads the team needs and no repository offers (an execution's usage so far,
agents' track records for assignment) are here too.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType
from accord.domain.errors import IllegalTransition
from accord.domain.events import EventKind
from accord.domain.execution import Usage
from accord.domain.interaction import AgentInteraction
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.tables import step_runs


class TeamRecords:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.interactions = InteractionRepository(session)
        self.events = EventRepository(session)

    def agents(self, agent_ids: Iterable[str], *, user_id: str) -> list[Agent]:
        """The user's agents among `agent_ids`, in the order given (unknown ones left out)."""
        ids = list(agent_ids)
        owned = AgentRepository(self.session).owned(ids, user_id=user_id)
        return [owned[a] for a in ids if a in owned]

    def add_interaction(
        self,
        *,
        execution_id: str,
        user_id: str,
        from_agent_id: str,
        interaction_type: InteractionType,
        message: str,
        to_agent_id: str | None = None,
        to_user_id: str | None = None,
        context: dict[str, Any] | None = None,
        step_id: str | None = None,
        related_task_id: str | None = None,
        requires_response: bool = False,
        deadline: float | None = None,
    ) -> AgentInteraction:
        """Record one interaction and its `interaction.created` event."""
        interaction = self.interactions.record(
            execution_id=execution_id,
            from_agent_id=from_agent_id,
            interaction_type=interaction_type,
            message=message,
            to_agent_id=to_agent_id,
            to_user_id=to_user_id,
            context_data=context,
            related_step_id=step_id,
            related_task_id=related_task_id,
            requires_response=requires_response,
            response_deadline=None if deadline is None else datetime.fromtimestamp(deadline, UTC),
        )
        self.events.append(
            execution_id=execution_id,
            user_id=user_id,
            kind=EventKind.INTERACTION_CREATED,
            step_id=step_id,
            data=interaction.to_json_dict(),
        )
        return interaction

    def answer(
        self,
        interaction_id: str,
        *,
        user_id: str,
        message: str,
        data: Any = None,
    ) -> AgentInteraction:
        """Record the answer to a pending question and its `interaction.answered` event; an
        answered or expired question keeps what it has."""
        try:
            interaction = self.interactions.record_response(
                interaction_id, message=message, data=data
            )
        except IllegalTransition:
            return self.interactions.get(interaction_id)
        self.events.append(
            execution_id=interaction.workflow_execution_id,
            user_id=user_id,
            kind=EventKind.INTERACTION_ANSWERED,
            step_id=interaction.related_step_id,
            data=interaction.to_json_dict(),
        )
        return interaction

    def expire(self, interaction_id: str) -> AgentInteraction:
        """A question nobody answered in time is recorded as expired."""
        self.interactions.mark_expired(interaction_id)
        return self.interactions.get(interaction_id)

    def execution_usage(self, execution_id: str, *, excluding_step_run: str | None) -> Usage:
        """Tokens and cost of the execution's attempts so far (the current one excluded)."""
        query = select(
            func.coalesce(func.sum(step_runs.c.input_tokens), 0),
            func.coalesce(func.sum(step_runs.c.output_tokens), 0),
            func.coalesce(func.sum(step_runs.c.cost_usd), 0.0),
            func.coalesce(func.sum(step_runs.c.model_calls), 0),
            func.coalesce(func.sum(step_runs.c.tool_calls), 0),
            func.coalesce(func.sum(step_runs.c.tool_seconds), 0.0),
        ).where(step_runs.c.execution_id == execution_id)
        if excluding_step_run is not None:
            query = query.where(step_runs.c.id != excluding_step_run)
        tokens_in, tokens_out, cost, calls, tools, tool_seconds = self.session.execute(query).one()
        return Usage(
            input_tokens=int(tokens_in),
            output_tokens=int(tokens_out),
            cost_usd=float(cost),
            model_calls=int(calls),
            tool_calls=int(tools),
            tool_seconds=float(tool_seconds),
        )

    def note_running_usage(self, step_run_id: str, usage: Usage) -> None:
        """What a running attempt has used so far, on its step run (recording its outcome
        writes the final figures)."""
        self.session.execute(
            update(step_runs)
            .where(step_runs.c.id == step_run_id, step_runs.c.status == "running")
            .values(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
                model_calls=usage.model_calls,
                tool_calls=usage.tool_calls,
                tool_seconds=usage.tool_seconds,
            )
        )

    def agent_track_records(self, agent_ids: list[str]) -> dict[str, tuple[int, int, int]]:
        """agent ID -> (attempts running now, completed attempts, failed attempts)."""
        rows = self.session.execute(
            select(step_runs.c.agent_id, step_runs.c.status, func.count())
            .where(step_runs.c.agent_id.in_(agent_ids))
            .group_by(step_runs.c.agent_id, step_runs.c.status)
        ).all()
        counts: dict[str, dict[str, int]] = {a: {} for a in agent_ids}
        for agent_id, status, n in rows:
            counts[agent_id][status] = int(n)
        return {
            a: (c.get("running", 0), c.get("completed", 0), c.get("failed", 0))
            for a, c in counts.items()
        }
