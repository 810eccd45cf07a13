"""What every command needs: the local database, brought up to date, and the local user.

Commands call the library directly on the local database (`ACCORD_DATABASE_URL`, or SQLite
in the data directory), acting as the local user: the first user there is, made on the first
run, the same one `accord serve` signs the browser in as.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from accord.domain.errors import AccordError, InvalidDefinition, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The database, workflow files and SQLAlchemy are imported by the functions that use them:
# every command imports this module, including those (and `--help`) that touch no database.

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")


class AccordApp(typer.Typer):
    """A Typer app that turns Accord's own errors into a message and exit code 1, never a
    traceback: they are the user's to fix, and the message says how."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except AccordError as exc:
            print_error(exc)
            sys.exit(1)


def print_error(exc: AccordError) -> None:
    """Each problem on its own line with its fix; a file's problems with their lines.

    The texts are escaped: a message quoting `[bug, feature]` is not Rich markup."""
    from accord.domain.workflow_file import FileProblem, WorkflowFileError

    if isinstance(exc, InvalidDefinition):
        count = len(exc.problems)
        what = "workflow file" if isinstance(exc, WorkflowFileError) else "workflow definition"
        err_console.print(f"[bold red]Invalid {what}[/] ({count} problem{'s' * (count != 1)}):")
        for problem in exc.problems:
            where = ""
            if isinstance(problem, FileProblem):
                where = (
                    f"{problem.source}:{problem.line}: " if problem.line else f"{problem.source}: "
                )
            field = f"[bold]{escape(problem.field)}[/]: " if problem.field else ""
            err_console.print(f"  {escape(where)}{field}{escape(problem.message)}", highlight=False)
            err_console.print(f"    [dim]fix: {escape(problem.fix)}[/]", highlight=False)
        return
    if isinstance(exc, InvalidInput):
        for problem in exc.problems:
            err_console.print(
                f"[bold red]error:[/] [bold]{escape(problem.field)}[/]: {escape(problem.message)}",
                highlight=False,
            )
            err_console.print(f"    [dim]fix: {escape(problem.fix)}[/]", highlight=False)
        return
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)


def require_postgres(command: str) -> None:
    """Worker processes share a Postgres database; refuse SQLite with the fix."""
    from accord.storage.db import database_url, is_sqlite

    if is_sqlite(database_url()):
        raise AccordError(
            f"{command} needs Postgres, shared by the server and its workers: set "
            "ACCORD_DATABASE_URL=postgresql://user@host/dbname (on SQLite, `accord serve` "
            "alone runs everything)"
        )


@contextmanager
def local_session() -> Iterator[tuple["Session", str]]:
    """One transaction on the local database, as the local user."""
    from accord.team.local import local_user_id, open_database

    database = open_database()
    try:
        with database.session() as session:
            yield session, local_user_id(session)
    finally:
        database.dispose()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def short_id(value: str | None) -> str:
    return value[:8] if value else "-"
