"""`accord workflows ...`: workflow definitions, created from YAML files."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.projects import find_project
from accord.cli.terminal import plain
from accord.cli.workflow_triggers import show_new_secret
from accord.domain.lookup import pick
from accord.domain.workflow import CollaborationWorkflow
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.users import ProjectRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team import install_workflow, load_workflow

app = AccordApp(no_args_is_help=True, help="Workflows: a team, its steps and how it decides.")


def find_workflow(repo: WorkflowRepository, wanted: str, *, user_id: str) -> CollaborationWorkflow:
    return pick(
        repo.list(user_id=user_id),
        wanted,
        kind="workflow",
        name=lambda w: w.name,
        ident=lambda w: w.id,
    )


@app.command("list")
def list_workflows(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your workflows, newest first."""
    with local_session() as (session, user_id):
        workflows = WorkflowRepository(session).list(user_id=user_id)
    if json_:
        print_json([w.to_json_dict() for w in workflows])
        return
    table = Table("id", "name", "type", "status", "steps", "agents")
    for w in workflows:
        table.add_row(
            short_id(w.id),
            plain(w.name),
            w.workflow_type.value,
            w.status.value,
            str(len(w.configuration.steps)),
            str(len(w.participating_agents)),
        )
    console.print(table if workflows else "No workflows yet: `accord workflows create FILE`.")


@app.command()
def show(workflow: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a workflow (by ID, name or ID prefix) with its steps."""
    with local_session() as (session, user_id):
        found = find_workflow(WorkflowRepository(session), workflow, user_id=user_id)
        names = {a.id: a.name for a in AgentRepository(session).list(user_id=user_id)}
    if json_:
        print_json(found.to_json_dict())
        return
    console.print(
        f"[bold]{found.name}[/] ({found.id})  {found.workflow_type.value}, {found.status.value}",
        highlight=False,
    )
    if found.description:
        console.print(found.description, markup=False, highlight=False)
    console.print(
        "agents: "
        + ", ".join(names.get(a, a) for a in found.participating_agents)
        + (
            f"; coordinator {names.get(found.coordinator_agent_id, '?')}"
            if found.coordinator_agent_id
            else ""
        ),
        highlight=False,
    )
    table = Table("step", "name", "type", "depends on", "agent", "condition")
    for step in found.configuration.steps:
        table.add_row(
            plain(step.id),
            plain(step.name),
            step.type.value,
            plain(", ".join(step.depends_on)),
            plain(names.get(step.preferred_agent_id or "", step.assigned_agent_role or "")),
            plain(step.condition or ""),
        )
    console.print(table)


@app.command()
def create(
    file: Annotated[Path, typer.Argument(help="A workflow file (see examples/).")],
    project: Annotated[
        str | None, typer.Option(help="File it under this project (name or ID).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a workflow and its agents from a YAML file (updated in place if one of yours
    has the same name)."""
    loaded = load_workflow(file)
    with local_session() as (session, user_id):
        project_id = (
            find_project(ProjectRepository(session), project, user_id=user_id).id
            if project is not None
            else None
        )
        workflow = install_workflow(
            session,
            user_id=user_id,
            loaded=loaded,
            show_secret=show_new_secret,
            project_id=project_id,
        )
    if json_:
        print_json(workflow.to_json_dict())
    else:
        console.print(
            f"Workflow [bold]{workflow.name}[/] ({workflow.id}) is ready: `accord run {file}`"
        )
