"""Shared fixtures: a migrated database per backend, SQLite and Postgres alike.

`db` is parametrized over both backends, so every test that takes it is a conformance
test. Postgres is the real server on 127.0.0.1:5432 (`.ci/run` starts it); each test
session gets its own freshly created database, dropped at the end.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from accord.storage.db import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_database(name: str) -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _postgres_database(f"accord_test_{uuid.uuid4().hex[:12]}")


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
