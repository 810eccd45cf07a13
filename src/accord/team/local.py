"""The local database and its local user: what `accord run` and the Python library act as.

Both call the library directly on the local database (`ACCORD_DATABASE_URL`, or SQLite in
the data directory), as the first user there is, made on the first run: the same one
`accord serve` signs the browser in as.
"""

import sys

from sqlalchemy.orm import Session

from accord.storage.db import Database
from accord.storage.permissions import exposed_data, exposure_warning
from accord.storage.repositories.users import ensure_local_user
from accord.team.templates import install_system_templates


def open_database() -> Database:
    """The local database, its schema brought up to date; files of it that others may read
    are named on stderr."""
    database = Database()
    found = exposed_data(database.url)
    if found:
        print(f"warning: {exposure_warning(found)}", file=sys.stderr)
    database.upgrade()
    return database


def local_user_id(session: Session) -> str:
    """The local user (made on the first run, with the system templates installed)."""
    user = ensure_local_user(session)
    install_system_templates(session)
    return user.id
