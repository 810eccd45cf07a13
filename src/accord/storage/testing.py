"""Scratch Postgres databases for tests and benchmarks, shipped with the storage layer.

Each is made on the Postgres server of `ACCORD_TEST_POSTGRES_URL` (by default the local one
with trust auth, as `.ci/run` leaves it) and dropped afterwards, whatever connections its
users left open.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ADMIN_URL_ENV = "ACCORD_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_postgres_database(prefix: str = "accord_scratch") -> Iterator[str]:
    """A new, empty database named `<prefix>_<random>`; yields its URL."""
    admin_url = os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    # No pool: a connection kept from the creation would be dead after a test that restarts
    # the server, and the drop would fail.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
