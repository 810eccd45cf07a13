"""The `accord` command: one Typer app, one sub-app per resource.

Each command's module is imported only when that command runs (see `accord.cli.lazy`), so
`accord --help` and commands that touch no database start without loading SQLAlchemy, Alembic
or the engine.
"""

import os

from accord.cli.context import AccordApp
from accord.cli.lazy import LazyCommand, LazyGroup


class AccordCommands(LazyGroup):
    lazy_commands = (
        LazyCommand(
            "validate",
            "accord.cli.workflow_format:validate",
            "Check workflow files without running them; every problem names its line and field.",
        ),
        LazyCommand(
            "schema",
            "accord.cli.workflow_format:schema",
            "Print the JSON Schema of workflow files (the committed copy is schemas/).",
        ),
        LazyCommand(
            "demo",
            "accord.cli.demo:demo",
            "Run a multi-agent workflow live on the offline model, then serve the browser monitor.",
        ),
        LazyCommand(
            "run",
            "accord.cli.run:run",
            "Run a workflow with a live view, then print its deliverable (exit code 0 if "
            "completed).",
        ),
        LazyCommand(
            "serve",
            "accord.cli.serve:serve",
            "Serve the API and the browser monitor (prints a one-time login link on 127.0.0.1).",
        ),
        LazyCommand(
            "mcp",
            "accord.cli.mcp_stdio:mcp",
            "Serve your workflows as MCP tools over stdio (list, start, follow, get results).",
        ),
        LazyCommand(
            "worker",
            "accord.cli.worker:worker",
            "Run step attempts from the queue shared with `accord serve` until Ctrl-C or SIGTERM.",
        ),
        LazyCommand("db", "accord.cli.db:app", "Manage the database schema."),
        LazyCommand(
            "agents", "accord.cli.agents:app", "Agents: a name, a role, skills and a model."
        ),
        LazyCommand(
            "providers",
            "accord.cli.providers:app",
            "LLM providers: OpenAI, compatible servers, Anthropic, the offline model.",
        ),
        LazyCommand(
            "mcp-servers",
            "accord.cli.mcp_servers:app",
            "Saved MCP servers: a workflow names one in mcpServers as `NAME: {saved: SERVER}`.",
        ),
        LazyCommand(
            "workflows",
            "accord.cli.workflows:app",
            "Workflows: a team, its steps and how it decides.",
        ),
        LazyCommand("templates", "accord.cli.templates:app", "Templates: workflows to start from."),
        LazyCommand(
            "executions", "accord.cli.executions:app", "Executions: runs of your workflows."
        ),
        LazyCommand(
            "triggers",
            "accord.cli.triggers:app",
            "Schedules and dependencies that start a workflow.",
        ),
        LazyCommand(
            "hooks", "accord.cli.triggers:hooks_app", "Inbound webhooks that start a workflow."
        ),
        LazyCommand(
            "notifications",
            "accord.cli.triggers:notifications_app",
            "Signed webhooks Accord sends when runs end or need you.",
        ),
        LazyCommand(
            "projects", "accord.cli.projects:app", "Projects: named groups of your workflows."
        ),
        LazyCommand(
            "approvals", "accord.cli.approvals:app", "Tool calls waiting for your approval."
        ),
        LazyCommand("workers", "accord.cli.worker:workers_app", "The processes that run steps."),
        LazyCommand(
            "tokens", "accord.cli.tokens:app", "API tokens for scripts and the Python client."
        ),
    )


app = AccordApp(
    cls=AccordCommands,
    no_args_is_help=True,
    help="Accord: teams of LLM agents running durable workflows.",
)


@app.callback()
def _owner_only_files() -> None:
    # Everything a command creates (database, workspaces, exports, logs) is its user's alone.
    os.umask(0o077)


if __name__ == "__main__":
    app()
