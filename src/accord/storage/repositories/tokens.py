"""API tokens: bearer tokens, browser sessions, and one-time login links.

The secret is shown once, when the token is created; only its SHA-256 is stored, so a leaked
database does not leak working tokens. Kinds: `api` (made by the user, for scripts and the
CLI), `session` (the browser cookie) and `login` (the link `accord serve` prints: it works
once, then only the session it was exchanged for does).
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import hashlib
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.domain.access import Scope
from accord.domain.agent import ApiToken
from accord.domain.errors import NotFound, Unauthorized
from accord.storage.repositories._convert import affected_rows, to_datetime, to_optional_datetime
from accord.storage.tables import api_tokens, new_id, users

TokenKind = Literal["api", "session", "login"]


@dataclass(frozen=True)
class Credential:
    """A valid api token or browser session, as a request presents it."""

    token: ApiToken
    kind: TokenKind


SECRET_PREFIX = "acc_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scope=Scope(row.scope),
        created_at=to_datetime(row.created_at),
        last_used_at=to_optional_datetime(row.last_used_at),
        expires_at=to_optional_datetime(row.expires_at),
    )


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        user_id: str,
        name: str,
        kind: TokenKind = "api",
        ttl_seconds: int | None = None,
        scope: Scope = Scope.ADMIN,
    ) -> tuple[ApiToken, str]:
        """A new token and its secret. The secret is not stored and cannot be shown again."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = int(time.time())
        row = self.session.execute(
            insert(api_tokens)
            .values(
                id=new_id(),
                user_id=user_id,
                name=name,
                kind=kind,
                scope=scope.value,
                token_hash=hash_secret(secret),
                created_at=now,
                expires_at=None if ttl_seconds is None else now + ttl_seconds,
            )
            .returning(api_tokens)
        ).one()
        return _token(row), secret

    def verify(self, secret: str, *, session_idle_seconds: int | None = None) -> Credential:
        """The api or session token with this secret, if it is still valid and its user is
        enabled; raises Unauthorized otherwise (a login token must be redeemed instead). A
        session unused for `session_idle_seconds` has ended. Only reads, so it runs in
        read-only transactions; `record_use` notes the use separately."""
        row = self._valid(secret)
        if row.kind == "login":
            raise Unauthorized("a login link is not a bearer token; open it in the browser")
        if row.kind == "session" and session_idle_seconds is not None:
            last = row.last_used_at or row.created_at
            if time.time() - last > session_idle_seconds:
                raise Unauthorized("this session ended after being idle; sign in again")
        disabled = self.session.execute(
            select(users.c.disabled_at).where(users.c.id == row.user_id)
        ).scalar_one()
        if disabled is not None:
            raise Unauthorized("this user is disabled; ask an administrator")
        return Credential(token=_token(row), kind=row.kind)

    def still_valid(self, token_ids: Collection[str]) -> set[str]:
        """Which of these api or session tokens still let their user in (not deleted,
        expired or of a disabled user): one query for every open event stream."""
        if not token_ids:
            return set()
        rows = self.session.execute(
            select(api_tokens.c.id)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(
                api_tokens.c.id.in_(list(token_ids)),
                users.c.disabled_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > time.time()),
            )
        )
        return set(rows.scalars())

    def record_use(self, token_id: str) -> None:
        self.session.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id)
            .values(last_used_at=int(time.time()))
        )

    def redeem_login(self, secret: str) -> ApiToken:
        """Use a one-time login token: valid once, then never again."""
        row = self._valid(secret)
        if row.kind != "login":
            raise Unauthorized("this is not a login link")
        now = int(time.time())
        used = self.session.execute(
            update(api_tokens)
            .where(api_tokens.c.id == row.id, api_tokens.c.used_at.is_(None))
            .values(used_at=now, last_used_at=now)
        )
        if affected_rows(used) == 0:
            raise Unauthorized("this login link has already been used; ask for a new one")
        return _token(row)

    def list(self, *, user_id: str, kind: TokenKind = "api") -> builtins.list[ApiToken]:
        rows = self.session.execute(
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == kind)
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        return [_token(r) for r in rows]

    def delete(self, token_id: str, *, user_id: str, kind: TokenKind = "api") -> None:
        result = self.session.execute(
            delete(api_tokens).where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.kind == kind,
            )
        )
        if affected_rows(result) == 0:
            raise NotFound("token", token_id)

    def _valid(self, secret: str) -> Row[Any]:
        row = self.session.execute(
            select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret))
        ).one_or_none()
        if row is None:
            raise Unauthorized("unknown token")
        if row.expires_at is not None and row.expires_at <= time.time():
            raise Unauthorized("this token has expired")
        if row.kind == "login" and row.used_at is not None:
            raise Unauthorized("this login link has already been used; ask for a new one")
        return row
