"""A workflow's shared knowledge: listed, searched, and confirmed by agents."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from accord.domain.errors import InvalidInput, NotFound
from accord.domain.knowledge import CollaborationKnowledge
from accord.server.access import ReadAccess, RunAccess
from accord.server.deps import SessionDep
from accord.server.pagination import PageDep
from accord.server.schemas import ERROR_RESPONSES, ValidationRequest
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team import KnowledgeBase

router = APIRouter(tags=["knowledge"], responses=ERROR_RESPONSES)


@router.get("/workflows/{workflow_id}/knowledge")
def list_knowledge(
    workflow_id: str,
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=1000)] = None,
    include_inactive: Annotated[bool, Query(alias="includeInactive")] = False,
) -> list[CollaborationKnowledge]:
    """Newest first; with `q`, the active entries that match, best first."""
    WorkflowRepository(session).get(workflow_id, user_id=access.owner_id)
    base = KnowledgeBase(session, workflow_id=workflow_id, user_id=access.owner_id)
    if q:
        return page.of(base.search(q, limit=page.start + page.limit))
    return page.of(base.entries(include_inactive=include_inactive))


@router.post("/knowledge/{knowledge_id}/validations", status_code=status.HTTP_201_CREATED)
def validate_knowledge(
    knowledge_id: str, body: ValidationRequest, access: RunAccess, session: SessionDep
) -> CollaborationKnowledge:
    """An agent of the user's confirms an entry (its author cannot: 409)."""
    entry = KnowledgeRepository(session).get(knowledge_id, user_id=access.owner_id)
    try:
        AgentRepository(session).get(body.agent_id, user_id=access.owner_id)
    except NotFound as exc:
        raise InvalidInput.of(
            "agentId",
            f"agent {body.agent_id!r} does not exist or is not yours",
            "pick one of your agents",
        ) from exc
    base = KnowledgeBase(
        session,
        workflow_id=entry.workflow_id,
        user_id=access.owner_id,
        execution_id=entry.execution_id,
    )
    return base.validate(knowledge_id, agent_id=body.agent_id)
