"""The `accord` command: one Typer app, one sub-app per resource."""

import typer

from accord.cli import db as db_commands
from accord.cli import workflow_format

app = typer.Typer(
    no_args_is_help=True, help="Accord: teams of LLM agents running durable workflows."
)
app.add_typer(db_commands.app, name="db")
app.command()(workflow_format.validate)
app.command()(workflow_format.schema)


if __name__ == "__main__":
    app()
