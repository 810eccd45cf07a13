"""`accord tokens ...`: API tokens for scripts, CI and MCP clients, made on the server's
machine for any user (the local user by default)."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli.context import AccordApp, console, print_json, short_id
from accord.domain.access import Scope
from accord.domain.agent import User
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from accord.team.local import local_user_id, open_database

app = AccordApp(no_args_is_help=True, help="API tokens: create (shown once), list, revoke.")

UserOption = Annotated[
    str | None, typer.Option("--user", help="Whose tokens (ID or email; default: the local user).")
]


def _user(users: UserRepository, wanted: str | None) -> User:
    return users.find(wanted) if wanted else users.get(local_user_id(users.session))


@app.command()
def create(
    name: str,
    user: UserOption = None,
    scope: Annotated[
        Scope,
        typer.Option(help="read: watch; run: also start, control, answer, approve; admin: all."),
    ] = Scope.ADMIN,
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a token and print its secret (shown this once; only its hash is kept)."""
    database = open_database()
    try:
        with database.session() as session:
            owner = _user(UserRepository(session), user)
            ttl = None if expires_in_days is None else expires_in_days * 24 * 3600
            token, secret = TokenRepository(session).create(
                user_id=owner.id, name=name, ttl_seconds=ttl, scope=scope
            )
    finally:
        database.dispose()
    if json_:
        print_json(token.to_json_dict() | {"token": secret})
    else:
        console.print(
            f"Token {token.name} ({token.id}, scope {token.scope.value}) for {owner.email}:",
            markup=False,
            highlight=False,
        )
        typer.echo(secret)


@app.command("list")
def list_tokens(
    user: UserOption = None, json_: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List a user's API tokens (never their secrets)."""
    database = open_database()
    try:
        with database.session() as session:
            owner = _user(UserRepository(session), user)
            tokens = TokenRepository(session).list(user_id=owner.id)
    finally:
        database.dispose()
    if json_:
        print_json([t.to_json_dict() for t in tokens])
        return
    table = Table("id", "name", "scope", "expires", "last used")
    for t in tokens:
        table.add_row(
            short_id(t.id),
            escape(t.name),
            t.scope.value,
            str(t.expires_at or "never"),
            str(t.last_used_at or "never"),
        )
    console.print(table if tokens else "No tokens: `accord tokens create NAME`.")


@app.command()
def revoke(token_id: str, user: UserOption = None) -> None:
    """Revoke a token (its full ID): refused at once, its open event streams end."""
    database = open_database()
    try:
        with database.session() as session:
            owner = _user(UserRepository(session), user)
            TokenRepository(session).delete(token_id, user_id=owner.id)
    finally:
        database.dispose()
    console.print(f"Revoked {token_id}", markup=False)
