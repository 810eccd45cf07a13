"""`accord run FILE.yaml` / `accord run --template NAME`: run a workflow, watch it live."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from accord.cli.context import console, local_user_id, open_database, print_json
from accord.cli.running import print_summary, run_workflow
from accord.cli.workflow_files import install_workflow, load_workflow
from accord.domain.errors import AccordError


def run(
    file: Annotated[Path | None, typer.Argument(help="A workflow file (see examples/).")] = None,
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object at the end instead of the live view."),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Cancel the execution after this many seconds.")
    ] = None,
) -> None:
    """Run a workflow with a live view; the exit code is 0 only if it completed."""
    if file is None:
        raise AccordError("give a workflow file (e.g. examples/code-review.yaml)")
    loaded = load_workflow(file)
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            workflow = install_workflow(session, user_id=user_id, loaded=loaded)
        report = run_workflow(
            database,
            user_id=user_id,
            workflow_id=workflow.id,
            console=None if json_ else console,
            timeout_s=timeout,
        )
    finally:
        database.dispose()
    if json_:
        print_json(report.data)
    else:
        print_summary(console, report)
    sys.exit(0 if report.completed else 1)
