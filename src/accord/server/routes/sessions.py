"""Signing in and out of the browser, the first administrator, and the user's sessions.

`POST /session` checks an email and password and sets the session cookie; `DELETE /session`
signs this browser out; `/me/sessions` lists the user's browser sessions and ends any of
them. `POST /setup` makes the first administrator of a server without users, with the
one-time setup token the server printed when it started.
"""

from fastapi import APIRouter, Request, Response, status

from accord.domain.agent import User
from accord.domain.errors import Conflict, NotFound, Unauthorized
from accord.server.access import PERMISSION_KEY, PUBLIC, ManageAccess, ReadAccess
from accord.server.auth import end_session, setup_token_matches, start_session
from accord.server.deps import SessionDep, SettingsDep
from accord.server.schemas import (
    ERROR_RESPONSES,
    FirstAdministrator,
    SessionInfo,
    SignIn,
    SignInMethods,
)
from accord.server.sign_in_limit import SignInLimit
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)

_PUBLIC = {PERMISSION_KEY: PUBLIC}


@router.post("/session", openapi_extra=_PUBLIC)
def sign_in(
    body: SignIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> User:
    """Sign in with email and password: sets the browser's session cookie. After ten wrong
    passwords for an email in 15 minutes, its sign-in answers 429 for a while."""
    limit: SignInLimit = request.app.state.sign_in_limit
    limit.check(body.email)
    user = UserRepository(session).authenticate(body.email, body.password)
    if user is None:
        limit.failed(body.email)
        raise Unauthorized("wrong email or password (or the user is disabled)")
    limit.succeeded(body.email)
    start_session(session, request, response, user_id=user.id, settings=settings)
    return user


@router.get("/sign-in-methods", openapi_extra=_PUBLIC)
def sign_in_methods(settings: SettingsDep) -> SignInMethods:
    """How people can sign in here (the sign-in page offers what is on)."""
    return SignInMethods(password=True, oidc=settings.oidc is not None)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(access: ReadAccess, response: Response, session: SessionDep) -> None:
    """Sign this browser out: its session ends here and in every open event stream. An API
    token is revoked with `DELETE /tokens/{id}` instead."""
    try:
        TokenRepository(session).delete(access.token_id, user_id=access.user.id, kind="session")
    except NotFound as exc:
        raise Conflict(
            "this request was made with an API token, not a browser session; revoke a token "
            "with DELETE /api/v1/tokens/{id}"
        ) from exc
    end_session(response)


@router.get("/me/sessions")
def list_sessions(access: ReadAccess, session: SessionDep) -> list[SessionInfo]:
    """The user's browser sessions, oldest first."""
    return [
        SessionInfo(
            id=t.id,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            expires_at=t.expires_at,
            current=t.id == access.token_id,
        )
        for t in TokenRepository(session).list(user_id=access.user.id, kind="session")
    ]


@router.delete("/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def end_user_session(session_id: str, access: ManageAccess, session: SessionDep) -> None:
    """End one of the user's browser sessions (a lost laptop's, say) and its event streams."""
    TokenRepository(session).delete(session_id, user_id=access.user.id, kind="session")


@router.post("/setup", status_code=status.HTTP_201_CREATED, openapi_extra=_PUBLIC)
def make_first_administrator(
    body: FirstAdministrator,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    """Make the first administrator of a server that has no users, with the setup token it
    printed at start, and sign the browser in as them. Refused once any user exists."""
    users = UserRepository(session)
    if users.any_exist():
        raise Conflict("this server already has users; sign in, or ask an administrator")
    if not setup_token_matches(request.app.state.setup_token, body.setup_token):
        raise Unauthorized("wrong setup token; use the link this server printed when it started")
    user = users.create(
        email=body.email, display_name=body.display_name, password=body.password, is_admin=True
    )
    request.app.state.setup_token = None
    start_session(session, request, response, user_id=user.id, settings=settings)
    return user
