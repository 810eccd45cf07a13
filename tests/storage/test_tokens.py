import pytest
from sqlalchemy import select

from accord.domain.errors import NotFound, Unauthorized
from accord.storage.repositories.tokens import TokenRepository, hash_secret
from accord.storage.tables import api_tokens


def test_only_the_hash_is_stored_and_the_secret_authenticates(db, user_id):
    with db.session() as s:
        token, secret = TokenRepository(s).create(user_id=user_id, name="laptop")
    with db.session() as s:
        stored = s.execute(select(api_tokens).where(api_tokens.c.id == token.id)).one()
        assert stored.token_hash == hash_secret(secret) and secret not in stored
        found = TokenRepository(s).verify(secret).token
        assert TokenRepository(s).list(user_id=user_id)[0].last_used_at is None  # only read
        TokenRepository(s).record_use(found.id)
    assert (found.id, found.user_id, found.name) == (token.id, user_id, "laptop")
    with db.session() as s:
        assert TokenRepository(s).list(user_id=user_id)[0].last_used_at is not None
        with pytest.raises(Unauthorized, match="unknown"):
            TokenRepository(s).verify(secret + "x")


def test_expired_tokens_are_refused(db, user_id):
    with db.session() as s:
        _, secret = TokenRepository(s).create(user_id=user_id, name="old", ttl_seconds=-1)
    with db.session() as s, pytest.raises(Unauthorized, match="expired"):
        TokenRepository(s).verify(secret)


def test_a_login_link_works_once_and_is_not_a_bearer_token(db, user_id):
    with db.session() as s:
        _, secret = TokenRepository(s).create(
            user_id=user_id, name="login", kind="login", ttl_seconds=600
        )
    with db.session() as s, pytest.raises(Unauthorized, match="login link"):
        TokenRepository(s).verify(secret)
    with db.session() as s:
        assert TokenRepository(s).redeem_login(secret).user_id == user_id
    with db.session() as s, pytest.raises(Unauthorized, match="already been used"):
        TokenRepository(s).redeem_login(secret)


def test_tokens_are_listed_and_deleted_by_their_owner_only(db, user_id, make_user):
    other = make_user()
    with db.session() as s:
        token, secret = TokenRepository(s).create(user_id=user_id, name="ci")
        TokenRepository(s).create(user_id=user_id, name="browser", kind="session")
    with db.session() as s:
        repo = TokenRepository(s)
        assert [t.name for t in repo.list(user_id=user_id)] == ["ci"]
        assert repo.list(user_id=other) == []
        with pytest.raises(NotFound):
            repo.delete(token.id, user_id=other)
        repo.delete(token.id, user_id=user_id)
    with db.session() as s, pytest.raises(Unauthorized):
        TokenRepository(s).verify(secret)
