"""Agents: a user's team members (role, backstory, skills, and the model they think with)."""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, Text, delete, exists, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from accord.domain.agent import Agent, same_name
from accord.domain.errors import Conflict, NotFound
from accord.storage.repositories._convert import UNSET, Unset, to_datetime
from accord.storage.repositories._names import check_name_free
from accord.storage.tables import (
    agent_interactions,
    agents,
    collaboration_knowledge,
    collaboration_workflows,
    epoch_now,
    llm_providers,
    new_id,
)


def _agent(row: Row[Any]) -> Agent:
    return Agent(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        role=row.role,
        backstory=row.backstory,
        skills=row.skills or [],
        llm_provider_id=row.llm_provider_id,
        model=row.model,
        model_parameters=row.model_parameters or {},
        tools=row.tools or [],
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        user_id: str,
        name: str,
        role: str,
        backstory: str = "",
        skills: Iterable[str] = (),
        llm_provider_id: str | None = None,
        model: str | None = None,
        model_parameters: Mapping[str, Any] | None = None,
        tools: Iterable[str] = (),
    ) -> Agent:
        """Raise Conflict if the user already has an agent of that name (ignoring case)."""
        self._check_name_free(name, user_id)
        if llm_provider_id is not None:
            self._check_provider(llm_provider_id, user_id)
        now = epoch_now()
        row = self.session.execute(
            insert(agents)
            .values(
                id=new_id(),
                user_id=user_id,
                name=name,
                role=role,
                backstory=backstory,
                skills=list(dict.fromkeys(skills)),
                llm_provider_id=llm_provider_id,
                model=model,
                model_parameters=dict(model_parameters or {}),
                tools=list(dict.fromkeys(tools)),
                created_at=now,
                updated_at=now,
            )
            .returning(agents)
        ).one()
        return _agent(row)

    def get(self, agent_id: str, *, user_id: str) -> Agent:
        row = self.session.execute(
            select(agents).where(agents.c.id == agent_id, agents.c.user_id == user_id)
        ).one_or_none()
        if row is None:
            raise NotFound("agent", agent_id)
        return _agent(row)

    def get_any(self, agent_id: str) -> Agent:
        """An agent whatever its owner: for the engine and team, which act on stored
        definitions already checked against their owner."""
        row = self.session.execute(select(agents).where(agents.c.id == agent_id)).one_or_none()
        if row is None:
            raise NotFound("agent", agent_id)
        return _agent(row)

    def list(self, *, user_id: str) -> builtins.list[Agent]:
        rows = self.session.execute(
            select(agents)
            .where(agents.c.user_id == user_id)
            .order_by(agents.c.created_at, agents.c.name, agents.c.id)
        )
        return [_agent(r) for r in rows]

    def owned(self, agent_ids: Iterable[str], *, user_id: str) -> dict[str, Agent]:
        """Those of `agent_ids` the user owns, by ID (others are simply absent)."""
        ids = list(set(agent_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(agents).where(agents.c.id.in_(ids), agents.c.user_id == user_id)
        )
        return {r.id: _agent(r) for r in rows}

    def update(
        self,
        agent_id: str,
        *,
        user_id: str,
        name: str | Unset = UNSET,
        role: str | Unset = UNSET,
        backstory: str | Unset = UNSET,
        skills: Iterable[str] | Unset = UNSET,
        llm_provider_id: str | None | Unset = UNSET,
        model: str | None | Unset = UNSET,
        model_parameters: Mapping[str, Any] | Unset = UNSET,
        tools: Iterable[str] | Unset = UNSET,
    ) -> Agent:
        """Change the given fields; an argument left out keeps its value, None clears it.
        A new name must be free (see `create`)."""
        if isinstance(name, str) and not same_name(name, self.get(agent_id, user_id=user_id).name):
            self._check_name_free(name, user_id, own_id=agent_id)
        if isinstance(llm_provider_id, str):
            self._check_provider(llm_provider_id, user_id)
        changes: dict[str, Any] = {
            key: value
            for key, value in {
                "name": name,
                "role": role,
                "backstory": backstory,
                "model": model,
                "llm_provider_id": llm_provider_id,
            }.items()
            if not isinstance(value, Unset)
        }
        if not isinstance(skills, Unset):
            changes["skills"] = list(dict.fromkeys(skills))
        if not isinstance(model_parameters, Unset):
            changes["model_parameters"] = dict(model_parameters)
        if not isinstance(tools, Unset):
            changes["tools"] = list(dict.fromkeys(tools))
        row = self.session.execute(
            update(agents)
            .where(agents.c.id == agent_id, agents.c.user_id == user_id)
            .values(**changes, updated_at=epoch_now())
            .returning(agents)
        ).one_or_none()
        if row is None:
            raise NotFound("agent", agent_id)
        return _agent(row)

    def delete(self, agent_id: str, *, user_id: str) -> None:
        """Delete an agent no workflow or record refers to; otherwise say which one does."""
        self.get(agent_id, user_id=user_id)
        if (
            self.session.execute(
                select(collaboration_workflows.c.name)
                .where(
                    collaboration_workflows.c.user_id == user_id,
                    or_(
                        collaboration_workflows.c.coordinator_agent_id == agent_id,
                        type_coerce(collaboration_workflows.c.participating_agents, Text).contains(
                            f'"{agent_id}"'
                        ),
                    ),
                )
                .limit(1)
            ).scalar_one_or_none()
            is not None
        ):
            raise Conflict(
                f"agent {agent_id!r} takes part in a workflow; remove it from the workflow first",
                details={"id": agent_id},
            )
        referenced = exists().where(
            or_(
                agent_interactions.c.from_agent_id == agent_id,
                agent_interactions.c.to_agent_id == agent_id,
            )
        ) | exists().where(collaboration_knowledge.c.created_by_agent_id == agent_id)
        if self.session.execute(select(referenced)).scalar():
            raise Conflict(
                f"agent {agent_id!r} has recorded interactions or knowledge and is kept for them",
                details={"id": agent_id},
            )
        self.session.execute(delete(agents).where(agents.c.id == agent_id))

    def _check_name_free(self, name: str, user_id: str, *, own_id: str | None = None) -> None:
        check_name_free(
            self.session,
            select(agents.c.id, agents.c.name).where(agents.c.user_id == user_id),
            kind="agent",
            name=name,
            own_id=own_id,
        )

    def _check_provider(self, provider_id: str, user_id: str) -> None:
        found = self.session.execute(
            select(llm_providers.c.id).where(
                llm_providers.c.id == provider_id, llm_providers.c.user_id == user_id
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("llm provider", provider_id)
