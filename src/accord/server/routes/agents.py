"""Agents: the user's team members."""

from typing import Any

from fastapi import APIRouter, status

from accord.domain.agent import Agent, AgentCreate, AgentUpdate
from accord.domain.errors import InvalidInput, NotFound
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.agents import AgentRepository

router = APIRouter(prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES)


def _unknown_provider(provider_id: str | None) -> InvalidInput:
    return InvalidInput.of(
        "llmProviderId",
        f"provider {provider_id!r} does not exist or is not yours",
        "pick one of your providers (GET /api/v1/providers), or null for the offline model",
    )


@router.get("")
def list_agents(access: ReadAccess, session: SessionDep) -> list[Agent]:
    return AgentRepository(session).list(user_id=access.owner_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentCreate, access: EditAccess, session: SessionDep) -> Agent:
    try:
        return AgentRepository(session).create(user_id=access.owner_id, **dict(body))
    except NotFound as exc:
        raise _unknown_provider(body.llm_provider_id) from exc


@router.get("/{agent_id}")
def get_agent(agent_id: str, access: ReadAccess, session: SessionDep) -> Agent:
    return AgentRepository(session).get(agent_id, user_id=access.owner_id)


@router.patch("/{agent_id}")
def update_agent(
    agent_id: str, body: AgentUpdate, access: EditAccess, session: SessionDep
) -> Agent:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    for required in ("name", "role", "backstory", "skills", "model_parameters", "tools"):
        if changes.get(required, ...) is None:
            del changes[required]  # null for a required field means "unchanged"
    repo = AgentRepository(session)
    repo.get(agent_id, user_id=access.owner_id)
    try:
        return repo.update(agent_id, user_id=access.owner_id, **changes)
    except NotFound as exc:
        raise _unknown_provider(changes.get("llm_provider_id")) from exc


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_agent(agent_id: str, access: EditAccess, session: SessionDep) -> None:
    AgentRepository(session).delete(agent_id, user_id=access.owner_id)
