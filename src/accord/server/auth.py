"""Who is asking: API tokens, browser sessions and the one-time login link.

Secrets are random, shown once, and stored only as their SHA-256 (the storage layer's
`TokenRepository`), so a copy of the database does not let anyone in. Three kinds:

- `api`: made by a user (`POST /tokens`, the CLI); sent as `Authorization: Bearer ...`.
- `login`: one-time, short-lived; `GET /login?token=...` redeems it for a session.
- `session`: the browser's `accord_session` cookie, made by redeeming a login token.

Every request acts as exactly one user; nothing is readable without a token, not even on
127.0.0.1 (another local program or web page must not drive your agents).
"""

from sqlalchemy.orm import Session

from accord.storage.repositories.tokens import TokenRepository

SESSION_COOKIE = "accord_session"
LOGIN_TOKEN_TTL_S = 60 * 60
SESSION_TTL_S = 30 * 24 * 60 * 60


def issue_login_link(session: Session, *, user_id: str, base_url: str) -> str:
    """A one-time browser login URL for `user_id`, valid for an hour."""
    _, secret = TokenRepository(session).create(
        user_id=user_id, name="login link", kind="login", ttl_seconds=LOGIN_TOKEN_TTL_S
    )
    return f"{base_url}/login?token={secret}"
