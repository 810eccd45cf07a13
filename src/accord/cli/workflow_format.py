"""`accord validate FILE` and `accord schema`: the YAML workflow format from the terminal."""

import json
from pathlib import Path
from typing import Annotated

import typer

from accord.cli.context import console, print_error
from accord.domain.workflow_file import WorkflowFileError, workflow_file_schema
from accord.team import load_workflow


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
            print_error(exc)
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
