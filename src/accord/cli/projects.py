"""`accord projects ...`: named groups of your workflows."""

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.terminal import plain
from accord.domain.agent import Project, ProjectCreate
from accord.domain.errors import validate_request
from accord.domain.lookup import pick
from accord.storage.repositories.users import ProjectRepository
from accord.storage.repositories.workflows import WorkflowRepository

app = AccordApp(no_args_is_help=True, help="Projects: named groups of your workflows.")


def find_project(repo: ProjectRepository, wanted: str, *, user_id: str) -> Project:
    return pick(
        repo.list(user_id=user_id),
        wanted,
        kind="project",
        name=lambda p: p.name,
        ident=lambda p: p.id,
    )


@app.command("list")
def list_projects(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List your projects, with how many workflows each holds."""
    with local_session() as (session, user_id):
        projects = ProjectRepository(session).list(user_id=user_id)
        workflows = WorkflowRepository(session).list(user_id=user_id)
    counts = {p.id: sum(1 for w in workflows if w.project_id == p.id) for p in projects}
    if json_:
        print_json([p.to_json_dict() | {"workflows": counts[p.id]} for p in projects])
        return
    table = Table("id", "name", "workflows", "description")
    for p in projects:
        table.add_row(short_id(p.id), plain(p.name), str(counts[p.id]), plain(p.description))
    console.print(table if projects else "No projects yet: `accord projects create NAME`.")


@app.command()
def create(
    name: str,
    description: Annotated[str, typer.Option(help="What the project is for.")] = "",
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a project; file workflows under it with `accord workflows create FILE --project
    NAME` (or `projectId` through the API)."""
    request = validate_request(ProjectCreate, {"name": name, "description": description})
    with local_session() as (session, user_id):
        created = ProjectRepository(session).create(
            user_id=user_id, name=request.name, description=request.description
        )
    if json_:
        print_json(created.to_json_dict())
    else:
        console.print(f"Created project {created.name} ({created.id})", markup=False)


@app.command()
def show(project: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a project (by ID, name or prefix) and its workflows."""
    with local_session() as (session, user_id):
        found = find_project(ProjectRepository(session), project, user_id=user_id)
        workflows = WorkflowRepository(session).list(user_id=user_id, project_id=found.id)
    if json_:
        print_json(found.to_json_dict() | {"workflowList": [w.to_json_dict() for w in workflows]})
        return
    console.print(f"{found.name} ({found.id})", markup=False, highlight=False)
    if found.description:
        console.print(found.description, markup=False, highlight=False)
    table = Table("id", "workflow", "type", "status", "steps")
    for w in workflows:
        table.add_row(
            short_id(w.id),
            plain(w.name),
            w.workflow_type.value,
            w.status.value,
            str(w.total_steps),
        )
    console.print(table if workflows else "No workflows in this project yet.")


@app.command()
def delete(project: str) -> None:
    """Delete a project; refused while it holds workflows."""
    with local_session() as (session, user_id):
        repo = ProjectRepository(session)
        found = find_project(repo, project, user_id=user_id)
        repo.delete(found.id, user_id=user_id)
    console.print(f"Deleted project {found.name}", markup=False, highlight=False)
