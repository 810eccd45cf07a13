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

from accord.cli.terminal import SafeConsole, plain
from accord.domain.errors import AccordError, InvalidDefinition, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The database, workflow files and SQLAlchemy are imported by the functions that use them:
# every command imports this module, including those (and `--help`) that touch no database.

console = SafeConsole()
err_console = SafeConsole(stderr=True)

T = TypeVar("T")


class AccordApp(typer.Typer):
    """A Typer app that turns Accord's own errors into a message and exit code 1, never a
    traceback: they are the user's to fix, and the message says how."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            error, code = _user_error(exc)
            if error is None:
                raise
            print_error(error)
            sys.exit(code)


def _user_error(exc: Exception) -> tuple[AccordError | None, int]:
    """The error to show for `exc` and the exit code: a database fault as its sentence (never
    SQL), with the codes scripts can tell apart (sysexits.h: a full disk EX_IOERR, a database
    out of reach EX_TEMPFAIL); Accord's own errors with 1; None for a bug (a traceback)."""
    from accord.storage.db import database_url
    from accord.storage.faults import (
        EXIT_DATABASE_UNAVAILABLE,
        EXIT_STORAGE_FULL,
        DatabaseUnavailable,
        StorageFull,
        as_user_error,
    )

    fault = as_user_error(exc, database_url())
    if isinstance(fault, StorageFull):
        return fault, EXIT_STORAGE_FULL
    if isinstance(fault, DatabaseUnavailable):
        return fault, EXIT_DATABASE_UNAVAILABLE
    return (exc, 1) if isinstance(exc, AccordError) else (None, 1)


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
            field = f"[bold]{plain(problem.field)}[/]: " if problem.field else ""
            err_console.print(f"  {plain(where)}{field}{plain(problem.message)}", highlight=False)
            err_console.print(f"    [dim]fix: {plain(problem.fix)}[/]", highlight=False)
        return
    if isinstance(exc, InvalidInput):
        for problem in exc.problems:
            err_console.print(
                f"[bold red]error:[/] [bold]{plain(problem.field)}[/]: {plain(problem.message)}",
                highlight=False,
            )
            err_console.print(f"    [dim]fix: {plain(problem.fix)}[/]", highlight=False)
        return
    err_console.print(f"[bold red]error:[/] {plain(exc.message)}", highlight=False)


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
    from accord.team import local_user_id, open_database

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
