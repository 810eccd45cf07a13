"""What every command needs: the local database, brought up to date, and the local user.

Commands call the library directly on the local database (`ACCORD_DATABASE_URL`, or SQLite
in the data directory), acting as the local user: the first user there is, made on the first
run, the same one `accord serve` signs the browser in as.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from sqlalchemy.orm import Session

from accord.cli.terminal import SafeConsole, plain
from accord.domain.errors import AccordError, InvalidDefinition, InvalidInput
from accord.domain.workflow_file import FileProblem, WorkflowFileError
from accord.storage.db import database_url, is_sqlite
from accord.storage.faults import (
    EXIT_DATABASE_UNAVAILABLE,
    EXIT_STORAGE_FULL,
    DatabaseUnavailable,
    StorageFull,
    as_user_error,
)
from accord.team.local import local_user_id, open_database

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
            error = as_user_error(exc, database_url())
            if error is None:
                if not isinstance(exc, AccordError):
                    raise
                error = exc
            print_error(error)
            sys.exit(_EXIT_CODES.get(error.code, 1))


# A full disk and a database out of reach are not the user's input: scripts can tell them
# apart (sysexits.h: EX_IOERR, EX_TEMPFAIL).
_EXIT_CODES = {
    StorageFull.code: EXIT_STORAGE_FULL,
    DatabaseUnavailable.code: EXIT_DATABASE_UNAVAILABLE,
}


def print_error(exc: AccordError) -> None:
    """Each problem on its own line with its fix; a file's problems with their lines.

    The texts are escaped: a message quoting `[bug, feature]` is not Rich markup."""
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
    if is_sqlite(database_url()):
        raise AccordError(
            f"{command} needs Postgres, shared by the server and its workers: set "
            "ACCORD_DATABASE_URL=postgresql://user@host/dbname (on SQLite, `accord serve` "
            "alone runs everything)"
        )


@contextmanager
def local_session() -> Iterator[tuple[Session, str]]:
    """One transaction on the local database, as the local user."""
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
