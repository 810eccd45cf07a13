"""The current user."""

from fastapi import APIRouter

from accord.domain.agent import User
from accord.server.deps import CurrentUser, SessionDep
from accord.server.schemas import ERROR_RESPONSES, UserUpdate
from accord.storage.repositories.users import UserRepository

router = APIRouter(prefix="/me", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def get_me(user: CurrentUser) -> User:
    return user


@router.patch("")
def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> User:
    return UserRepository(session).rename(user.id, body.display_name)
