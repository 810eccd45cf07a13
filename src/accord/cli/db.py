"""`accord db ...`: schema management."""

import typer

from accord.cli.terminal import SafeConsole
from accord.storage.db import Database
from accord.storage.migrate import current_revision

app = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
console = SafeConsole()


@app.command()
def upgrade() -> None:
    """Bring the database (ACCORD_DATABASE_URL, or SQLite in the data directory) up to date."""
    database = Database()
    database.upgrade()
    console.print(
        f"Database at revision [bold]{current_revision(database.engine)}[/] "
        f"({database.engine.url.render_as_string(hide_password=True)})"
    )
