"""`accord run FILE.yaml` / `accord run --template NAME`: run a workflow, watch it live."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from accord.cli.approving import ApprovalMode
from accord.cli.context import console, err_console, print_json
from accord.cli.running import (
    RunReport,
    print_deliverable,
    print_summary,
    run_workflow,
    write_deliverable,
)
from accord.cli.teams import workflow_from_template
from accord.cli.workflow_triggers import show_new_secret
from accord.domain.errors import AccordError
from accord.domain.workflow import CollaborationWorkflow
from accord.team import install_workflow, load_workflow, local_user_id, open_database


def run(
    file: Annotated[Path | None, typer.Argument(help="A workflow file (see examples/).")] = None,
    template: Annotated[
        str | None,
        typer.Option(
            help="Run a template instead (key, name or ID: `accord templates list`); roles "
            "none of your agents play get demo agents on the offline model."
        ),
    ] = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object at the end instead of the live view."),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Cancel the execution after this many seconds.")
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            help="The folder the team's files go to (made if missing), instead of the one the "
            "file names or a fresh one in the data directory.",
            file_okay=False,
        ),
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            help="An input of the execution, KEY=VALUE (repeat for more); agents read them.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the deliverable (markdown) to this file."),
    ] = None,
    auto_approve: Annotated[
        bool,
        typer.Option(
            "--auto-approve",
            help="Approve every tool call that needs approval (otherwise you are asked in a "
            "terminal; without one, decide with `accord approvals` or in the browser).",
        ),
    ] = False,
) -> None:
    """Run a workflow with a live view, then print its deliverable (exit code 0 if completed)."""
    if (file is None) == (template is None):
        raise AccordError("give a workflow file or --template NAME (one of them)")
    inputs = parse_inputs(input_ or [])
    if file is not None:
        loaded = load_workflow(file)  # refuse a broken file before touching the database

        def prepare(session: Session, user_id: str) -> CollaborationWorkflow:
            return install_workflow(
                session, user_id=user_id, loaded=loaded, show_secret=show_new_secret
            )
    else:

        def prepare(session: Session, user_id: str) -> CollaborationWorkflow:
            return workflow_from_template(session, user_id=user_id, template=template or "")

    report = execute(
        prepare,
        live=not json_,
        timeout_s=timeout,
        workspace=str(workspace.resolve()) if workspace else None,
        inputs=inputs,
        approvals="auto" if auto_approve else "ask",
    )
    if json_:
        print_json(report.data)
    else:
        print_summary(console, report)
        print_deliverable(console, report)
    if output is not None:
        write_deliverable(console if not json_ else err_console, report, output)
    sys.exit(0 if report.completed else 1)


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as the execution's inputs (a bad pair is refused, naming it)."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AccordError(
                f'--input {pair!r} is not KEY=VALUE; write it as e.g. --input report="text"'
            )
        inputs[key.strip()] = value
    return inputs


def execute(
    prepare: Callable[[Session, str], CollaborationWorkflow],
    *,
    live: bool,
    timeout_s: float | None,
    workspace: str | None = None,
    inputs: dict[str, Any] | None = None,
    approvals: ApprovalMode = "ask",
) -> RunReport:
    """Prepare the workflow in one transaction, then run it (live on the terminal or not)."""
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            workflow = prepare(session, user_id)
        return run_workflow(
            database,
            user_id=user_id,
            workflow_id=workflow.id,
            console=console if live else None,
            timeout_s=timeout_s,
            workspace=workspace,
            inputs=inputs,
            approvals=approvals,
        )
    finally:
        database.dispose()
