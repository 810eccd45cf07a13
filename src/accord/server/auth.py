"""Who is asking: API tokens, browser sessions and the one-time login link.

Secrets are random, shown once, and stored only as their SHA-256 (`api_tokens.token_hash`),
so a copy of the database does not let anyone in. Three kinds share the table:

- `api`: made by a user (`POST /tokens`, the CLI); sent as `Authorization: Bearer ...`.
- `login`: one-time, short-lived; `GET /login?token=...` redeems it for a session.
- `session`: the browser's `accord_session` cookie, made by redeeming a login token.

Every request acts as exactly one user; nothing is readable without a token, not even on
127.0.0.1 (another local program or web page must not drive your agents).
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import ApiToken, User
from accord.domain.errors import NotFound, Unauthorized
from accord.storage.repositories._convert import to_datetime
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import api_tokens, epoch_now, new_id

TokenKind = Literal["api", "login", "session"]

SECRET_PREFIX = "acc_"
SESSION_COOKIE = "accord_session"
LOGIN_TOKEN_TTL_S = 60 * 60
SESSION_TTL_S = 30 * 24 * 60 * 60
LAST_USED_RESOLUTION_S = 60
"""`last_used_at` is written at most this often per token, so reads stay reads."""
LOCAL_USER_EMAIL = "local@accord.localhost"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str
    """The only time the secret exists in clear: give it to the user, then forget it."""


def _api_token(row) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=to_datetime(row.created_at),
        last_used_at=to_datetime(row.last_used_at),
        expires_at=to_datetime(row.expires_at),
    )


class TokenStore:
    """The `api_tokens` table, for the server's needs only (a session, flushing)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue(
        self, *, user_id: str, name: str, kind: TokenKind = "api", ttl_seconds: int | None = None
    ) -> IssuedToken:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = epoch_now()
        row = self.session.execute(
            insert(api_tokens)
            .values(
                id=new_id(),
                user_id=user_id,
                name=name,
                kind=kind,
                token_hash=hash_secret(secret),
                created_at=now,
                expires_at=None if ttl_seconds is None else now + ttl_seconds,
            )
            .returning(api_tokens)
        ).one()
        return IssuedToken(_api_token(row), secret)

    def authenticate(self, secret: str, *, kinds: tuple[TokenKind, ...]) -> str:
        """The user ID a live token of one of `kinds` belongs to; Unauthorized otherwise."""
        row = self.session.execute(
            select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret))
        ).one_or_none()
        now = epoch_now()
        if (
            row is None
            or row.kind not in kinds
            or (row.expires_at is not None and row.expires_at <= now)
        ):
            raise Unauthorized(
                "The token is unknown, expired or revoked; sign in again or create a new token."
            )
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION_S:
            self.session.execute(
                update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
            )
        return row.user_id

    def redeem_login(self, secret: str) -> str:
        """Use a one-time login token up (exactly once, even under racing requests) and
        return its user ID."""
        now = epoch_now()
        row = self.session.execute(
            update(api_tokens)
            .where(
                api_tokens.c.token_hash == hash_secret(secret),
                api_tokens.c.kind == "login",
                api_tokens.c.used_at.is_(None),
                (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > now),
            )
            .values(used_at=now, last_used_at=now)
            .returning(api_tokens.c.user_id)
        ).one_or_none()
        if row is None:
            raise Unauthorized(
                "This login link was already used or has expired; run "
                "`accord serve` again (or `accord login`) for a new one."
            )
        return row.user_id

    def list_api_tokens(self, *, user_id: str) -> list[ApiToken]:
        rows = self.session.execute(
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == "api")
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        return [_api_token(r) for r in rows]

    def revoke(self, token_id: str, *, user_id: str) -> None:
        deleted = self.session.execute(
            delete(api_tokens).where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.kind == "api",
            )
        ).rowcount
        if not deleted:
            raise NotFound("token", token_id)


def ensure_local_user(session: Session) -> User:
    """Single-user local use: the first user there is, made on the first run."""
    repo = UserRepository(session)
    existing = repo.list()
    if existing:
        return existing[0]
    return repo.create(email=LOCAL_USER_EMAIL, display_name="Local user")


def issue_login_link(session: Session, *, user_id: str, base_url: str) -> str:
    """A one-time browser login URL for `user_id`, valid for an hour."""
    issued = TokenStore(session).issue(
        user_id=user_id, name="login link", kind="login", ttl_seconds=LOGIN_TOKEN_TTL_S
    )
    return f"{base_url}/login?token={issued.secret}"
