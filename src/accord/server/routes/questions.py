"""Questions agents put to the user, and the user's answers."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from accord.domain.enums import QuestionStatus
from accord.domain.errors import IllegalTransition
from accord.domain.interaction import AgentInteraction
from accord.server.access import ReadAccess, RunAccess
from accord.server.deps import SessionDep
from accord.server.pagination import PageDep
from accord.server.schemas import ERROR_RESPONSES, AnswerRequest
from accord.storage.repositories.interactions import InteractionRepository
from accord.team import TeamRecords

router = APIRouter(tags=["questions"], responses=ERROR_RESPONSES)


@router.get("/questions")
def list_questions(
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["pending"], Query()] = "pending",
) -> list[AgentInteraction]:
    """The questions waiting for the user's answer, oldest first."""
    return page.of(InteractionRepository(session).pending_questions_for_user(access.owner_id))


@router.post("/interactions/{interaction_id}/answer")
def answer_question(
    interaction_id: str, body: AnswerRequest, access: RunAccess, session: SessionDep
) -> AgentInteraction:
    """Answer a question put to the user; one already answered or expired is a 409."""
    question = InteractionRepository(session).get(interaction_id, user_id=access.owner_id)
    if (
        question.to_user_id != access.owner_id
        or question.response_status is not QuestionStatus.PENDING
    ):
        current = question.response_status or "no response required"
        raise IllegalTransition("question", interaction_id, str(current), "answered")
    answered = TeamRecords(session).answer(
        interaction_id, user_id=access.owner_id, message=body.message, data=body.data
    )
    if answered.response_status is not QuestionStatus.ANSWERED:  # expired meanwhile
        raise IllegalTransition(
            "question", interaction_id, str(answered.response_status), "answered"
        )
    return answered
