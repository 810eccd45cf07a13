"""The server's users, for administrators: make, list, disable, make administrator, set a
password. Disabling a user refuses their tokens and sessions at once and ends their open
event streams; the last enabled administrator cannot be disabled or demoted."""

from fastapi import APIRouter, status

from accord.domain.agent import User
from accord.server.access import AdminAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES, UserAdminUpdate, UserCreate
from accord.storage.repositories.users import UserRepository

router = APIRouter(prefix="/users", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def list_users(access: AdminAccess, session: SessionDep) -> list[User]:
    """Every user, oldest first."""
    return UserRepository(session).list()


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, access: AdminAccess, session: SessionDep) -> User:
    """A new user (409 when the email is taken). Without a password they sign in through a
    login link (`accord users login-link`) or an API token until one is set."""
    return UserRepository(session).create(
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        is_admin=body.is_admin,
    )


@router.get("/{user_id}")
def get_user(user_id: str, access: AdminAccess, session: SessionDep) -> User:
    return UserRepository(session).get(user_id)


@router.patch("/{user_id}")
def update_user(
    user_id: str, body: UserAdminUpdate, access: AdminAccess, session: SessionDep
) -> User:
    """Disable or enable, make or unmake administrator, set a new password."""
    users = UserRepository(session)
    user = users.get(user_id)
    if body.password is not None:
        user = users.set_password(user_id, body.password)
    if body.is_admin is not None:
        user = users.set_admin(user_id, body.is_admin)
    if body.disabled is not None:
        user = users.set_disabled(user_id, body.disabled)
    return user
