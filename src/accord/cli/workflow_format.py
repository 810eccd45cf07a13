"""`accord validate FILE` and `accord schema`: the YAML workflow format from the terminal."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from accord.cli.workflow_files import load_workflow
from accord.domain.workflow_file import WorkflowFileError, workflow_file_schema

console = Console()
err_console = Console(stderr=True)


def validate(
    files: Annotated[list[Path], typer.Argument(help="Workflow files to check.")],
) -> None:
    """Check workflow files without running them; every problem names its line and field."""
    failed = False
    for path in files:
        try:
            loaded = load_workflow(path)
        except WorkflowFileError as exc:
            failed = True
            print_file_error(exc)
            continue
        workflow = loaded.workflow
        console.print(
            f"[green]ok[/] {path}: {workflow.workflow_type.value} workflow "
            f"{workflow.name!r}, {len(workflow.steps)} steps, "
            f"{len(workflow.agents)} agents"
        )
    if failed:
        raise typer.Exit(1)


def schema() -> None:
    """Print the JSON Schema of workflow files (the committed copy is schemas/)."""
    typer.echo(schema_text(), nl=False)


def schema_text() -> str:
    return json.dumps(workflow_file_schema(), indent=2) + "\n"


def print_file_error(exc: WorkflowFileError) -> None:
    err_console.print(
        f"[bold red]Invalid workflow file[/] ({len(exc.problems)} "
        f"problem{'s' if len(exc.problems) != 1 else ''}):"
    )
    for problem in exc.problems:
        where = f"{problem.source}:{problem.line}" if problem.line else problem.source
        field = f" [bold]{problem.field}[/]:" if problem.field else ""
        err_console.print(f"  {where}:{field} {problem.message}", highlight=False)
        err_console.print(f"    [dim]fix: {problem.fix}[/]", highlight=False)
