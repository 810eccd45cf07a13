"""Dependencies every route shares: the database, one transaction, the current user."""

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accord.domain.agent import User
from accord.domain.errors import AccordError, Unauthorized
from accord.engine.service import Engine
from accord.server.auth import SESSION_COOKIE
from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository

TOKEN_USE_RECORDED_EVERY_S = 60.0

_bearer = HTTPBearer(auto_error=False, description="An API token (`POST /api/v1/tokens`).")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The browser session set by the one-time login link.",
)


class EngineNotRunning(AccordError):
    """This server was started without an engine (API only), so it cannot run executions."""

    code = "engine_not_running"

    def __init__(self) -> None:
        super().__init__(
            "This server does not run executions (it was started without the engine); "
            "start it with the engine, or use `accord run`."
        )


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The engine that runs executions in this process."""
    engine: Engine | None = request.app.state.engine
    if engine is None:
        raise EngineNotRunning()
    return engine


DatabaseDep = Annotated[Database, Depends(get_database)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]


def get_session(db: DatabaseDep, request: Request) -> Iterator[Session]:
    """The request's one transaction: committed before the response is sent (scope
    "function"), so a client never sees success for a write that then fails to commit.
    GET and HEAD only read, so they take a read-only transaction that never waits for the
    engine's writes (see `Database.read_session`)."""
    if request.method in ("GET", "HEAD"):
        with db.read_session() as session:
            yield session
    else:
        with db.session() as session:
            yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(
    db: DatabaseDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> User:
    """The user the bearer token or session cookie belongs to. Uses its own short
    transaction so that long-lived requests (event streams) hold no database session."""
    if bearer is not None:
        secret = bearer.credentials
    elif cookie:
        secret = cookie
    else:
        raise Unauthorized(
            "Sign in: send `Authorization: Bearer <token>` or open the login "
            "link `accord serve` printed."
        )
    return user_of_token(db, secret)


def user_of_token(db: Database, secret: str) -> User:
    """The user an API token or session belongs to; `Unauthorized` when it is unknown,
    expired or revoked."""
    with db.read_session() as session:
        token = TokenRepository(session).verify(secret)
        user = UserRepository(session).get(token.user_id)
    # Recording every use would make each request a write; once a minute says enough.
    last_used = token.last_used_at.timestamp() if token.last_used_at else 0.0
    if time.time() - last_used >= TOKEN_USE_RECORDED_EVERY_S:
        with db.session() as session:
            TokenRepository(session).record_use(token.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
