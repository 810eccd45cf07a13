"""Who is asking: API tokens, browser sessions, passwords and the one-time links.

Secrets are random, shown once, and stored only as their SHA-256 (the storage layer's
`TokenRepository`), so a copy of the database does not let anyone in. Three kinds:

- `api`: made by a user (`POST /tokens`, `accord tokens create`), with a scope (read, run,
  admin) and an optional expiry; sent as `Authorization: Bearer ...`.
- `login`: one-time, short-lived; `GET /login?token=...` redeems it for a session.
- `session`: the browser's `accord_session` cookie, made by signing in with a password
  (`POST /api/v1/session`) or by redeeming a login link; it lasts
  `ServerSettings.session_lifetime_seconds` and ends after `session_idle_seconds` unused.

A server without users prints a one-time setup link (`/setup?token=...`): whoever opens it
makes the first administrator. Every request acts as exactly one user; nothing is readable
without a token, not even on 127.0.0.1 (another local program or web page must not drive
your agents).
"""

import secrets

from fastapi import Request, Response
from sqlalchemy.orm import Session

from accord.server.settings import ServerSettings
from accord.storage.repositories.tokens import TokenRepository

SESSION_COOKIE = "accord_session"
LOGIN_TOKEN_TTL_S = 60 * 60


def issue_login_link(session: Session, *, user_id: str, base_url: str) -> str:
    """A one-time browser login URL for `user_id`, valid for an hour."""
    _, secret = TokenRepository(session).create(
        user_id=user_id, name="login link", kind="login", ttl_seconds=LOGIN_TOKEN_TTL_S
    )
    return f"{base_url}/login?token={secret}"


def new_setup_token() -> str:
    """The secret of the setup link a server without users prints (kept in its memory)."""
    return "setup_" + secrets.token_urlsafe(32)


def setup_token_matches(expected: str | None, given: str) -> bool:
    return expected is not None and secrets.compare_digest(expected, given)


def start_session(
    session: Session,
    request: Request,
    response: Response,
    *,
    user_id: str,
    settings: ServerSettings,
) -> None:
    """Sign the browser in as `user_id`: a new session token in an HttpOnly, SameSite
    cookie, Secure when the browser came over HTTPS (directly, or through a proxy uvicorn
    trusts to say so with X-Forwarded-Proto): a Secure cookie would never come back over
    plain HTTP, and the browser could not sign in at all."""
    _, secret = TokenRepository(session).create(
        user_id=user_id,
        name="browser session",
        kind="session",
        ttl_seconds=settings.session_lifetime_seconds,
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_lifetime_seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
