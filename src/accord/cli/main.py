"""The `accord` command: one Typer app, one sub-app per resource."""

import os

from accord.cli import (
    agents,
    approvals,
    demo,
    executions,
    mcp_servers,
    mcp_stdio,
    projects,
    providers,
    run,
    serve,
    templates,
    tokens,
    triggers,
    users,
    worker,
    workflow_format,
    workflows,
)
from accord.cli import db as db_commands
from accord.cli.context import AccordApp

app = AccordApp(no_args_is_help=True, help="Accord: teams of LLM agents running durable workflows.")


@app.callback()
def _owner_only_files() -> None:
    # Everything a command creates (database, workspaces, exports, logs) is its user's alone.
    os.umask(0o077)


app.add_typer(db_commands.app, name="db")
app.add_typer(agents.app, name="agents")
app.add_typer(providers.app, name="providers")
app.add_typer(mcp_servers.app, name="mcp-servers")
app.add_typer(workflows.app, name="workflows")
app.add_typer(templates.app, name="templates")
app.add_typer(executions.app, name="executions")
app.add_typer(triggers.app, name="triggers")
app.add_typer(triggers.hooks_app, name="hooks")
app.add_typer(triggers.notifications_app, name="notifications")
app.add_typer(projects.app, name="projects")
app.add_typer(approvals.app, name="approvals")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.command()(workflow_format.validate)
app.command()(workflow_format.schema)
app.command()(demo.demo)
app.command()(run.run)
app.command()(serve.serve)
app.command()(mcp_stdio.mcp)
app.command()(worker.worker)
app.add_typer(worker.workers_app, name="workers")


if __name__ == "__main__":
    app()
