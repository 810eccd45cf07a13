"""The current user."""

from fastapi import APIRouter

from accord.domain.agent import User
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES, UserUpdate
from accord.storage.repositories.users import UserRepository

router = APIRouter(prefix="/me", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def get_me(access: ReadAccess) -> User:
    return access.user


@router.patch("")
def update_me(body: UserUpdate, access: EditAccess, session: SessionDep) -> User:
    return UserRepository(session).rename(access.owner_id, body.display_name)
