"""Dependencies every route shares: the database, one transaction, the current user."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accord.domain.agent import User
from accord.domain.errors import AccordError, Forbidden, Unauthorized
from accord.engine.service import Engine
from accord.server.auth import SESSION_COOKIE
from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.tokens import Credential, TokenRepository
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


@dataclass(frozen=True)
class Caller:
    """Who sent a request, and with which credential."""

    user: User
    credential: Credential


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(request: Request) -> bool:
    """Whether a request's `Origin` (or, without one, `Referer`) is this server as the
    browser reached it (its `Host`). Browsers send `Origin` with every state-changing
    fetch, and a page elsewhere cannot forge it."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == request.headers.get("host", "").lower()


def get_caller(
    db: DatabaseDep,
    settings: SettingsDep,
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Caller:
    """The user the bearer token or session cookie belongs to. Uses its own short
    transaction so that long-lived requests (event streams) hold no database session.

    A cookie is sent by the browser whichever page asks, so a state-changing request with
    the session cookie must come from this server's own pages (same origin): another site
    cannot make a signed-in browser cancel or approve anything."""
    if bearer is not None:
        secret = bearer.credentials
    elif cookie:
        secret = cookie
        if request.method not in SAFE_METHODS and not same_origin(request):
            raise Forbidden(
                "a request signed in by the browser session must come from this server's own "
                "pages (its Origin header does not match); scripts should send an API token"
            )
    else:
        raise Unauthorized(
            "Sign in: send `Authorization: Bearer <token>`, sign in with your password at "
            "/login, or open the login link `accord serve` printed."
        )
    return caller_of_token(db, secret, session_idle_seconds=settings.session_idle_seconds)


def caller_of_token(
    db: Database, secret: str, *, session_idle_seconds: int | None = None
) -> Caller:
    """The caller an API token or session belongs to; `Unauthorized` when it is unknown,
    expired, idle past the limit, revoked or of a disabled user."""
    with db.read_session() as session:
        credential = TokenRepository(session).verify(
            secret, session_idle_seconds=session_idle_seconds
        )
        user = UserRepository(session).get(credential.token.user_id)
    # Recording every use would make each request a write; once a minute says enough.
    last_used = credential.token.last_used_at
    if time.time() - (last_used.timestamp() if last_used else 0.0) >= TOKEN_USE_RECORDED_EVERY_S:
        with db.session() as session:
            TokenRepository(session).record_use(credential.token.id)
    return Caller(user=user, credential=credential)
