"""`accord templates ...`: ready-made workflows (system ones and your own)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AccordApp, console, local_session, print_json, short_id
from accord.cli.terminal import plain
from accord.domain.enums import TemplateCategory
from accord.domain.errors import InvalidDefinition, Problem
from accord.domain.lookup import pick
from accord.domain.template import CreateTemplateRequest, WorkflowTemplate
from accord.domain.workflow_file import WorkflowFile
from accord.storage.repositories.templates import TemplateRepository
from accord.team import load_workflow

app = AccordApp(no_args_is_help=True, help="Templates: workflows to start from.")


def find_template(repo: TemplateRepository, wanted: str, *, user_id: str) -> WorkflowTemplate:
    """By system key (stable across installs), else by ID, name or prefix."""
    templates = repo.list(user_id=user_id)
    for template in templates:
        if template.system_key == wanted:
            return template
    return pick(templates, wanted, kind="template", name=lambda t: t.name, ident=lambda t: t.id)


@app.command("list")
def list_templates(
    category: Annotated[TemplateCategory | None, typer.Option()] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the system templates and your own, most used first."""
    with local_session() as (session, user_id):
        templates = TemplateRepository(session).list(user_id=user_id, category=category)
    if json_:
        print_json([t.to_json_dict() for t in templates])
        return
    table = Table("id", "name", "key", "category", "type", "steps", "roles", "used", "success")
    for t in templates:
        table.add_row(
            short_id(t.id),
            plain(t.name),
            t.system_key or "(yours)",
            t.category.value,
            t.workflow_type.value,
            str(len(t.template_definition.steps)),
            plain(", ".join(t.required_agent_roles)),
            str(t.usage_count),
            f"{t.success_rate:.0f}%",  # a percentage already (0-100)
        )
    console.print(table if templates else "No templates yet.")


@app.command()
def show(template: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a template (by ID, system key, name or prefix) with its steps."""
    with local_session() as (session, user_id):
        found = find_template(TemplateRepository(session), template, user_id=user_id)
    if json_:
        print_json(found.to_json_dict())
        return
    console.print(
        f"[bold]{found.name}[/] ({found.id})  {found.category.value}, {found.workflow_type.value}",
        highlight=False,
    )
    console.print(found.description, markup=False, highlight=False)
    console.print("roles: " + ", ".join(found.required_agent_roles), highlight=False)
    table = Table("step", "name", "type", "role", "depends on")
    for step in found.template_definition.steps:
        table.add_row(
            plain(step.id),
            plain(step.name),
            step.type.value,
            plain(step.assigned_agent_role or ""),
            plain(", ".join(step.depends_on)),
        )
    console.print(table)


@app.command()
def create(
    file: Annotated[Path, typer.Argument(help="A workflow file to make a template of.")],
    category: Annotated[TemplateCategory, typer.Option()],
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Save a workflow file as a template of your own: its agents become roles."""
    request = template_request(load_workflow(file).workflow, category)
    with local_session() as (session, user_id):
        created = TemplateRepository(session).create(request, user_id=user_id)
    if json_:
        print_json(created.to_json_dict())
    else:
        console.print(f"Created template [bold]{plain(created.name)}[/] ({created.id})")


def template_request(workflow: WorkflowFile, category: TemplateCategory) -> CreateTemplateRequest:
    """A template names roles, not agents: each step's agent becomes that agent's role."""
    problems = [
        Problem(
            f"steps[{i}].subWorkflow",
            "a template cannot include another file",
            "remove subWorkflow, or create a workflow instead",
        )
        for i, step in enumerate(workflow.steps)
        if step.sub_workflow
    ]
    if problems:
        raise InvalidDefinition(problems)
    roles = {a.name: a.role for a in workflow.agents}
    configuration = workflow.configuration()
    for step, spec in zip(configuration.steps, workflow.steps, strict=True):
        step.preferred_agent_id = None
        if spec.agent and not step.assigned_agent_role:
            step.assigned_agent_role = roles[spec.agent]
    return CreateTemplateRequest(
        name=workflow.name,
        description=workflow.description,
        category=category,
        workflow_type=workflow.workflow_type,
        template_definition=configuration,
        required_agent_roles=list(dict.fromkeys(roles.values())),
        recommended_agent_count=len(workflow.agents),
    )
