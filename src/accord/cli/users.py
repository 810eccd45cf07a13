"""`accord users ...`: the server's users, for whoever runs the server (its database is
theirs): make the first administrator, add users, disable them, set passwords.

Passwords are asked for twice without echo, or read from standard input with
`--password-stdin` (one line), so they never appear in the shell's history or `ps`.
"""

import sys
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, print_json, short_id
from accord.cli.terminal import plain
from accord.domain.agent import User
from accord.storage.repositories.users import UserRepository
from accord.team import open_database

app = AccordApp(
    no_args_is_help=True,
    help="The server's users: create (the first administrator), list, disable, passwords.",
)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _show(user: User, json_: bool, what: str) -> None:
    if json_:
        print_json(user.to_json_dict())
    else:
        role = "administrator" if user.is_admin else "user"
        console.print(f"{what} {role} {user.email} ({user.id})", markup=False, highlight=False)


@app.command()
def create(
    email: str,
    name: Annotated[
        str | None, typer.Option(help="Display name (default: the email's name).")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May manage users.")] = False,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool,
        typer.Option("--no-password", help="No password: sign in with `accord users login-link`."),
    ] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a user (with `--admin`, an administrator: the way to make the first one)."""
    password = None if no_password else _password(password_stdin)
    database = open_database()
    try:
        with database.session() as session:
            user = UserRepository(session).create(
                email=email,
                display_name=name or email.split("@")[0],
                password=password,
                is_admin=admin,
            )
    finally:
        database.dispose()
    _show(user, json_, "Created")


@app.command("list")
def list_users(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the users: who is an administrator, who is disabled, who has a password."""
    database = open_database()
    try:
        with database.read_session() as session:
            users = UserRepository(session).list()
    finally:
        database.dispose()
    if json_:
        print_json([u.to_json_dict() for u in users])
        return
    table = Table("id", "email", "name", "role", "status", "password")
    for u in users:
        table.add_row(
            short_id(u.id),
            plain(u.email),
            plain(u.display_name),
            "admin" if u.is_admin else "user",
            "disabled" if u.disabled else "active",
            "yes" if u.has_password else "no",
        )
    console.print(table if users else "No users yet: `accord users create EMAIL --admin`.")


def _change(wanted: str, json_: bool, what: str, **change: bool) -> None:
    database = open_database()
    try:
        with database.session() as session:
            users = UserRepository(session)
            found = users.find(wanted)
            if "disabled" in change:
                user = users.set_disabled(found.id, change["disabled"])
            else:
                user = users.set_admin(found.id, change["is_admin"])
    finally:
        database.dispose()
    _show(user, json_, what)


@app.command()
def disable(user: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Disable a user (by ID or email): their tokens and sessions stop working at once."""
    _change(user, json_, "Disabled", disabled=True)


@app.command()
def enable(user: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Enable a disabled user again."""
    _change(user, json_, "Enabled", disabled=False)


@app.command("set-admin")
def set_admin(
    user: str,
    off: Annotated[bool, typer.Option("--off", help="Take administration away.")] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make a user an administrator (or, with `--off`, no longer one)."""
    _change(user, json_, "Now", is_admin=not off)


@app.command("reset-password")
def reset_password(
    user: str,
    password_stdin: PasswordStdin = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set a user's password; their browser sessions end (API tokens stay)."""
    password = _password(password_stdin)
    database = open_database()
    try:
        with database.session() as session:
            users = UserRepository(session)
            updated = users.set_password(users.find(user).id, password)
    finally:
        database.dispose()
    _show(updated, json_, "New password for")


@app.command("login-link")
def login_link(
    user: str,
    url: Annotated[
        str, typer.Option(help="The server's address as the user's browser reaches it.")
    ] = "http://127.0.0.1:8765",
) -> None:
    """Print a one-time login link for a user (valid an hour), e.g. one without a password."""
    from accord.server.auth import issue_login_link  # the web stack loads only when needed

    database = open_database()
    try:
        with database.session() as session:
            found = UserRepository(session).find(user)
            link = issue_login_link(session, user_id=found.id, base_url=url.rstrip("/"))
    finally:
        database.dispose()
    typer.echo(link)
