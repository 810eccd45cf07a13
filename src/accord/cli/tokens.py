"""`accord tokens ...`: API tokens for scripts and the Python client (`accord.Client(url,
token=...)`), made on the local database, which `accord serve` on this machine (or one
sharing `ACCORD_DATABASE_URL`) uses. The secret is printed once, on create; only its hash is
kept."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.domain.lookup import pick
from accord.storage.repositories.tokens import TokenRepository

app = AccordApp(no_args_is_help=True, help="API tokens for scripts and the Python client.")
SECONDS_PER_DAY = 24 * 60 * 60


@app.command("list")
def list_tokens(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your API tokens (never their secrets)."""
    with local_session() as (session, user_id):
        tokens = TokenRepository(session).list(user_id=user_id)
    if json_:
        print_json([t.to_json_dict() for t in tokens])
        return
    table = Table("id", "name", "created", "last used", "expires")
    for t in tokens:
        table.add_row(
            short_id(t.id),
            escape(t.name),
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
        )
    console.print(table if tokens else "No API tokens yet: `accord tokens create NAME`.")


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'notebook'.")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it stops working.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make an API token and print its secret, this once: `accord.Client(url, token=...)`
    or `Authorization: Bearer <token>`."""
    ttl = None if expires_in_days is None else expires_in_days * SECONDS_PER_DAY
    with local_session() as (session, user_id):
        token, secret = TokenRepository(session).create(user_id=user_id, name=name, ttl_seconds=ttl)
    if json_:
        print_json(token.to_json_dict() | {"token": secret})
        return
    console.print(f"Created token {token.name} ({token.id}). Its secret, shown this once:")
    print(secret)


@app.command()
def revoke(
    token: Annotated[str, typer.Argument(help="The token's ID (or a unique prefix) or name.")],
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    with local_session() as (session, user_id):
        repo = TokenRepository(session)
        found = pick(
            repo.list(user_id=user_id),
            token,
            kind="token",
            name=lambda t: t.name,
            ident=lambda t: t.id,
        )
        repo.delete(found.id, user_id=user_id)
    console.print(f"Revoked token {found.name} ({found.id})", markup=False)
