"""`accord mcp-servers ...`: MCP servers saved once and named from any workflow (their `env`
and `headers` values are stored encrypted and never printed)."""

import os
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.terminal import plain
from accord.domain.errors import AccordError, validate_request
from accord.domain.lookup import pick
from accord.domain.mcp_server import McpServerCreate, SavedMcpServer
from accord.storage.repositories.mcp_servers import McpServerRepository

app = AccordApp(
    no_args_is_help=True,
    help="Saved MCP servers: a workflow names one in mcpServers as `NAME: {saved: SERVER}`.",
)


def find_server(repo: McpServerRepository, wanted: str, *, user_id: str) -> SavedMcpServer:
    return pick(
        repo.list(user_id=user_id),
        wanted,
        kind="MCP server",
        name=lambda s: s.name,
        ident=lambda s: s.id,
    )


def _reaches(server: SavedMcpServer) -> str:
    if server.command:
        return " ".join([server.command, *server.args])
    return server.url or ""


@app.command("list")
def list_servers(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your saved MCP servers."""
    with local_session() as (session, user_id):
        servers = McpServerRepository(session).list(user_id=user_id)
    if json_:
        print_json([s.to_json_dict() for s in servers])
        return
    table = Table("id", "name", "transport", "reaches", "secrets", "approval")
    for s in servers:
        table.add_row(
            short_id(s.id),
            plain(s.name),
            s.transport,
            plain(_reaches(s)),
            plain(", ".join([*s.env, *s.headers])),
            "required" if s.require_approval else "",
        )
    console.print(table if servers else "No saved MCP servers yet: `accord mcp-servers create`.")


@app.command()
def show(server: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one saved server (by ID, name or ID prefix); secret values stay masked."""
    with local_session() as (session, user_id):
        found = find_server(McpServerRepository(session), server, user_id=user_id)
    if json_:
        print_json(found.to_json_dict())
        return
    rows: list[tuple[str, object]] = [
        ("id", found.id),
        ("name", found.name),
        ("transport", found.transport),
    ]
    if found.command:
        rows += [("command", found.command), ("args", " ".join(found.args) or "-")]
        rows += [("cwd", found.cwd or "-"), ("env", ", ".join(found.env) or "-")]
    else:
        rows += [("url", found.url), ("headers", ", ".join(found.headers) or "-")]
    rows.append(("approval", "required for every call" if found.require_approval else "no"))
    for label, value in rows:
        console.print(f"[bold]{label}:[/] {plain(value)}", highlight=False)
    console.print(
        f"Use it in a workflow: mcpServers: {{{found.name}: {{saved: {found.name}}}}}",
        markup=False,
    )


@app.command()
def create(
    name: str,
    command: Annotated[
        str | None, typer.Option(help="A stdio server: the program to start, e.g. npx.")
    ] = None,
    arg: Annotated[
        list[str] | None,
        typer.Option(help="An argument of the program (repeat the option, in order)."),
    ] = None,
    cwd: Annotated[str | None, typer.Option(help="The folder the program starts in.")] = None,
    url: Annotated[
        str | None, typer.Option(help="A streamable-HTTP server: its URL, e.g. https://h/mcp.")
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=ENV_VAR: give the program KEY, read now from this shell's ENV_VAR "
            "(stored encrypted; repeat the option). KEY=${VAR} is kept as written and "
            "expanded where the step runs."
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=ENV_VAR: send header NAME with the value of this shell's ENV_VAR "
            "(stored encrypted; repeat the option), e.g. Authorization=GITHUB_AUTH."
        ),
    ] = None,
    require_approval: Annotated[
        bool, typer.Option(help="Every call waits for a user's approval.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Save an MCP server. Secret values are read from environment variables, so they never
    appear on the command line or in the shell's history."""
    request = validate_request(
        McpServerCreate,
        {
            "name": name,
            "command": command,
            "args": arg or [],
            "cwd": cwd,
            "url": url,
            "env": _from_environment(env, "--env"),
            "headers": _from_environment(header, "--header"),
            "require_approval": require_approval,
        },
    )
    with local_session() as (session, user_id):
        server = McpServerRepository(session).create(user_id=user_id, request=request)
    if json_:
        print_json(server.to_json_dict())
    else:
        console.print(f"Saved MCP server [bold]{plain(server.name)}[/] ({server.id})")


@app.command()
def delete(server: str) -> None:
    """Delete a saved server (refused while workflows name it)."""
    with local_session() as (session, user_id):
        repo = McpServerRepository(session)
        found = find_server(repo, server, user_id=user_id)
        repo.delete(found.id, user_id=user_id)
    console.print(f"Deleted MCP server [bold]{plain(found.name)}[/]")


def _from_environment(pairs: list[str] | None, option: str) -> dict[str, str]:
    """`KEY=ENV_VAR` pairs as KEY -> the variable's value (`KEY=${VAR}` kept as written)."""
    values = {}
    for pair in pairs or []:
        key, sep, variable = pair.partition("=")
        if not sep or not key or not variable:
            raise AccordError(f"{option} {pair!r} is not KEY=ENV_VAR")
        if variable.startswith("${"):
            values[key] = variable
            continue
        value = os.environ.get(variable)
        if value is None:
            raise AccordError(
                f"{option} {pair}: environment variable {variable} is not set; export it, or "
                f"write {key}='${{{variable}}}' to expand it where the step runs"
            )
        values[key] = value
    return values
