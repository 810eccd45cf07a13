"""Shared fixtures: a migrated database per backend, SQLite and Postgres alike.

`db` is parametrized over both backends, so every test that takes it is a conformance
test. Postgres is the real server on 127.0.0.1:5432 (`.ci/run` starts it); each test
session gets its own freshly created database, dropped at the end.
"""

import uuid
from collections.abc import Iterator

import pytest

from accord.storage.db import Database
from accord.storage.testing import scratch_postgres_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres_database("accord_test") as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A Postgres database of the test's own (for tests of several processes, whose recovery
    and reaper look at every execution in the database)."""
    with scratch_postgres_database("accord_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'accord.db'}"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def migrated_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue(f"{request.param}_url")
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_db: Database) -> Database:
    """A migrated database on each backend. Tests isolate themselves by creating their own
    user (see `user_id`), so nothing needs wiping between tests."""
    return migrated_db


@pytest.fixture
def user_id(db: Database) -> str:
    from accord.storage.repositories.users import UserRepository

    with db.session() as s:
        return (
            UserRepository(s)
            .create(email=f"{uuid.uuid4().hex[:10]}@example.test", display_name="Test User")
            .id
        )
