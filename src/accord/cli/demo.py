"""`accord demo`: the README's main command. A team of agents on the built-in offline model
runs a system template live in the terminal, then the browser monitor is served.

It never blocks an unattended run: with `CI=true` or no terminal it stops after the run
(and says how to serve) unless `--serve` is given.
"""

import os
import sys
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from accord.cli.context import console
from accord.cli.run import execute
from accord.cli.running import print_deliverable, print_summary
from accord.cli.serve import DEFAULT_HOST, DEFAULT_PORT
from accord.cli.teams import (
    DEMO_TEAM,
    DEMO_TEMPLATE,
    demo_agent,
    demo_provider,
    workflow_from_template,
)
from accord.domain.workflow import CollaborationWorkflow, UpdateWorkflowRequest
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.tools.reference import reference_server

DEMO_FILES = "files"
DEMO_FILES_TOOLS = ["files.read_text_file", "files.write_file"]
"""What the demo's agents may use of the filesystem server: read and write files, nothing
else (not move or delete them)."""

DEMO_INPUTS = {
    "feature": "Export a workflow's results as a CSV file from the browser. Large workflows "
    "time out today: an export of 200 steps must finish within 30 seconds."
}
"""What the demo team works on: a template says how a team works, its inputs say on what."""


def demo(
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the browser monitor after the run (default: yes on "
            "a terminal, no under CI or without one).",
        ),
    ] = None,
    template: Annotated[
        str, typer.Option(help="The system template the team runs.")
    ] = DEMO_TEMPLATE,
    host: Annotated[str, typer.Option()] = DEFAULT_HOST,
    port: Annotated[int, typer.Option()] = DEFAULT_PORT,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the login link in your browser.")
    ] = False,
    pace: Annotated[
        float,
        typer.Option(
            min=0, max=10, help="Seconds each offline model call takes, so the work can be watched."
        ),
    ] = 0.25,
) -> None:
    """Run a multi-agent workflow live on the offline model, then serve the browser monitor."""
    console.print(
        f"[bold]Accord demo[/]: {len(DEMO_TEAM)} agents on the built-in offline model (no API "
        f"key, no network) run the [bold]{template}[/] template together: the coordinator "
        "assigns steps, agents ask each other questions, review each other's work and share "
        "knowledge.\n",
        highlight=False,
    )

    files = reference_server("filesystem", "${WORKSPACE}")
    if files is not None:
        # Writing a file waits for a person's approval, as a risky call would in real work.
        files = files.model_copy(update={"require_approval": ["write_file"]})
        console.print(
            "Each agent may also use the reference filesystem MCP server on the execution's "
            "workspace folder: watch for [bold][tool][/] lines. Writing a file needs your "
            "approval (asked here at a terminal; approved by the demo itself otherwise).\n",
            highlight=False,
        )

    def prepare(session: Session, user_id: str) -> CollaborationWorkflow:
        provider_id = demo_provider(session, user_id, pace_seconds=pace)
        agents = AgentRepository(session)
        for spec in DEMO_TEAM:
            agent = demo_agent(session, user_id, spec)
            if agent.llm_provider_id is None:
                agents.update(agent.id, user_id=user_id, llm_provider_id=provider_id)
        workflow = workflow_from_template(session, user_id=user_id, template=template)
        if files is None or DEMO_FILES in workflow.configuration.mcp_servers:
            return workflow
        for agent_id in workflow.participating_agents:
            agents.update(agent_id, user_id=user_id, tools=DEMO_FILES_TOOLS)
        configuration = workflow.configuration.model_copy(
            update={"mcp_servers": {DEMO_FILES: files}}
        )
        return WorkflowRepository(session).update(
            workflow.id,
            user_id=user_id,
            request=UpdateWorkflowRequest(configuration=configuration),
        )

    inputs = DEMO_INPUTS if template == DEMO_TEMPLATE else {}
    attended = sys.stdout.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")
    # Tool calls that need approval: you answer them at a terminal; unattended, the demo
    # approves them itself (and says so) rather than wait for nobody.
    report = execute(
        prepare,
        live=True,
        timeout_s=None,
        inputs=inputs,
        approvals="ask" if attended else "auto",
    )
    print_summary(console, report)
    print_deliverable(console, report)
    if serve is None:
        serve = attended
    base = f"http://{host}:{port}"
    monitor = f"{base}/executions/{report.data['executionId']}"
    if not serve:
        console.print(
            f"\nTo watch it in the browser: [bold]accord serve[/], sign in with the "
            f"link it prints, then open {monitor}",
            highlight=False,
        )
        raise typer.Exit(0 if report.completed else 1)
    from accord.server.serve import run_server  # the web stack loads only when serving

    console.print(
        f"\nThe browser monitor of this execution (after signing in): {monitor}", highlight=False
    )
    run_server(host=host, port=port, open_browser=open_browser)
