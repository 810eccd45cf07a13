"""`accord agents ...`: the agents of your teams."""

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.providers import find_provider
from accord.cli.terminal import plain
from accord.domain.agent import Agent, AgentCreate
from accord.domain.errors import validate_request
from accord.domain.lookup import pick
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.providers import ProviderRepository

app = AccordApp(no_args_is_help=True, help="Agents: a name, a role, skills and a model.")


def find_agent(repo: AgentRepository, wanted: str, *, user_id: str) -> Agent:
    return pick(
        repo.list(user_id=user_id),
        wanted,
        kind="agent",
        name=lambda a: a.name,
        ident=lambda a: a.id,
    )


@app.command("list")
def list_agents(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your agents."""
    with local_session() as (session, user_id):
        agents = AgentRepository(session).list(user_id=user_id)
        providers = {p.id: p.name for p in ProviderRepository(session).list(user_id=user_id)}
    if json_:
        print_json([a.to_json_dict() for a in agents])
        return
    table = Table("id", "name", "role", "skills", "provider", "model")
    for a in agents:
        table.add_row(
            short_id(a.id),
            plain(a.name),
            plain(a.role),
            plain(", ".join(a.skills)),
            plain(providers.get(a.llm_provider_id or "", "default")),
            plain(a.model or ""),
        )
    console.print(table if agents else "No agents yet: `accord agents create` or `accord demo`.")


@app.command()
def show(agent: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one agent (by ID, name or ID prefix)."""
    with local_session() as (session, user_id):
        found = find_agent(AgentRepository(session), agent, user_id=user_id)
        providers = {p.id: p.name for p in ProviderRepository(session).list(user_id=user_id)}
    if json_:
        print_json(found.to_json_dict())
        return
    for label, value in (
        ("id", found.id),
        ("name", found.name),
        ("role", found.role),
        ("skills", ", ".join(found.skills) or "-"),
        ("tools", ", ".join(found.tools) or "-"),
        ("backstory", found.backstory or "-"),
        ("provider", providers.get(found.llm_provider_id or "", "default")),
        ("model", found.model or "provider default"),
    ):
        console.print(f"[bold]{label}:[/] {plain(value)}", highlight=False)


@app.command()
def create(
    name: str,
    role: Annotated[str, typer.Option(help="e.g. developer, reviewer, researcher.")],
    skill: Annotated[list[str] | None, typer.Option(help="A skill (repeat the option).")] = None,
    backstory: Annotated[str, typer.Option()] = "",
    provider: Annotated[
        str | None, typer.Option(help="A provider's name or ID (default: the offline model).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Overrides the provider's model.")] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option(
            help="What it may use (repeat): a server or toolkit (`workspace`), a tool "
            "(`files.read_text_file`) or a pattern (`git.*`)."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an agent."""
    request = validate_request(
        AgentCreate,
        {
            "name": name,
            "role": role,
            "backstory": backstory,
            "skills": skill or [],
            "model": model,
            "tools": tool or [],
        },
    )
    with local_session() as (session, user_id):
        if provider is not None:
            request.llm_provider_id = find_provider(
                ProviderRepository(session), provider, user_id=user_id
            ).id
        created = AgentRepository(session).create(user_id=user_id, **dict(request))
    if json_:
        print_json(created.to_json_dict())
    else:
        console.print(f"Created agent [bold]{plain(created.name)}[/] ({created.id})")
