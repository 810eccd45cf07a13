"""Alembic, driven from code: the migrations ship inside the package.

Every command and process brings the database up to date as it starts. When it already is
(nearly always), that is one query: the revision the database records against the newest
one among the shipped scripts, read from their text, so that neither Alembic nor the
scripts are imported (most of a short command's start-up time). Anything else, including
scripts this reading cannot follow, goes through Alembic.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from accord.storage.db import READ_ONLY

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\b[^=\n]*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=\n]*=\s*(.+)$", re.MULTILINE)


def alembic_config(engine: Engine | None = None) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (the latest by default); safe to run at every start."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def heads() -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def shipped_head() -> str | None:
    """The newest revision among the shipped scripts, from their `revision` and
    `down_revision` lines; None unless there is exactly one (then ask Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    newest = revisions - parents
    return newest.pop() if len(newest) == 1 else None


def _at_head(engine: Engine) -> bool:
    head = shipped_head()
    if head is None:
        return False
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            recorded = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # a new database: no version table yet
        return False
    return [r[0] for r in recorded] == [head]


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
