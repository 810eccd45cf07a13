"""Alembic environment: runs on the engine handed over by `accord.storage.migrate`."""

from alembic import context
from sqlalchemy import text

from accord.storage.tables import metadata

engine = context.config.attributes.get("engine")
if engine is None:
    from accord.storage.db import create_db_engine

    engine = create_db_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Processes starting together (a server and its workers) migrate one at a time;
            # the later ones then find the schema current.
            connection.execute(text("SELECT pg_advisory_xact_lock(7355608)"))
        context.run_migrations()
    connection.commit()
