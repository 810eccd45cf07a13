"""`accord executions ...`: runs of your workflows, their step attempts, and watching one live
(wherever it runs: this machine's `accord serve`, another terminal's `accord run`)."""

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from accord.cli.approving import approval_handler
from accord.cli.context import (
    AccordApp,
    console,
    local_session,
    print_json,
    short_id,
)
from accord.cli.live import watch_execution
from accord.cli.running import build_report as run_report
from accord.cli.running import print_deliverable, print_summary, run_workflow, view_for
from accord.cli.terminal import neutralise, plain
from accord.cli.workflows import find_workflow
from accord.domain.errors import AccordError, NotFound
from accord.domain.execution import ExecutionEvent, WorkflowExecution
from accord.domain.lookup import pick
from accord.domain.transitions import check_retry
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team import (
    ReportFormat,
    build_report,
    local_user_id,
    open_database,
    report_json,
    report_markdown,
    report_zip,
    workspace_contents,
)
from accord.tools.workspace_folder import list_files, locate_workspace

app = AccordApp(no_args_is_help=True, help="Executions: runs of your workflows.")


def _all_executions(
    session: Session, user_id: str, workflow: str | None
) -> list[WorkflowExecution]:
    workflows = WorkflowRepository(session)
    chosen = (
        [find_workflow(workflows, workflow, user_id=user_id)]
        if workflow
        else workflows.list(user_id=user_id)
    )
    executions = ExecutionRepository(session)
    found = [e for w in chosen for e in executions.list_for_workflow(w.id, user_id=user_id)]
    return sorted(found, key=lambda e: e.started_at, reverse=True)


def find_execution(session: Session, wanted: str, *, user_id: str) -> WorkflowExecution:
    return pick(
        _all_executions(session, user_id, None),
        wanted,
        kind="execution",
        name=lambda e: e.id,
        ident=lambda e: e.id,
    )


@app.command("list")
def list_executions(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow's.")] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List executions, newest first."""
    with local_session() as (session, user_id):
        executions = _all_executions(session, user_id, workflow)
        names = {w.id: w.name for w in WorkflowRepository(session).list(user_id=user_id)}
    if json_:
        print_json([e.to_json_dict() for e in executions])
        return
    table = Table("id", "workflow", "#", "status", "started", "seconds", "tokens", "parent")
    for e in executions:
        table.add_row(
            short_id(e.id),
            Text(names.get(e.workflow_id, "?")),
            str(e.execution_number),
            e.status.value,
            e.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            str(e.actual_duration) if e.actual_duration is not None else "",
            f"{e.usage.total_tokens:,}",
            short_id(e.parent_execution_id),
        )
    console.print(table if executions else "No executions yet: `accord run FILE`.")


@app.command()
def show(execution: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show an execution (by ID or prefix): its outcome and every step attempt."""
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            found = find_execution(session, execution, user_id=user_id)
            runs = StepRunRepository(session).list(found.id)
            names = {a.id: a.name for a in AgentRepository(session).list(user_id=user_id)}
            tool_calls = EventRepository(session).of_execution(
                user_id=user_id, execution_id=found.id, kind="tool.called"
            )
        report = run_report(database, found.id, user_id)
    finally:
        database.dispose()
    if json_:
        print_json(
            report.data
            | {
                "stepRuns": [r.to_json_dict() for r in runs],
                "toolCalls": [e.data for e in tool_calls],
            }
        )
        return
    table = Table(
        "step", "attempt", "agent", "status", "mode", "seconds", "tokens", "tools", "error"
    )
    for run in runs:
        seconds = (
            (run.finished_at - run.started_at).total_seconds()
            if (run.started_at and run.finished_at)
            else None
        )
        table.add_row(
            Text(run.step_id),
            str(run.attempt),
            Text(names.get(run.agent_id or "", "-")),
            run.status.value,
            run.output_mode or "",
            f"{seconds:.1f}" if seconds is not None else "",
            f"{run.input_tokens + run.output_tokens:,}",
            str(run.tool_calls) if run.tool_calls else "",
            Text(run.error or ""),  # model text: shown as written, never as markup
        )
    fired_by = f" by {found.triggered_by}" if found.trigger_reason != "manual" else ""
    console.print(f"Started: {found.trigger_reason.value}{plain(fired_by)}", highlight=False)
    console.print(table)
    if tool_calls:
        console.print(_tool_calls_table(tool_calls))
    print_summary(console, report)
    print_deliverable(console, report)


def _tool_calls_table(events: list[ExecutionEvent]) -> Table:
    table = Table("step", "agent", "tool", "arguments", "ms", "result", title="Tool calls")
    for event in events:
        call = event.data
        arguments = ", ".join(
            f"{k}={_clip(v, 40)}" for k, v in (call.get("arguments") or {}).items()
        )
        result = f"failed: {call['error']}" if call.get("error") else call.get("resultExcerpt")
        table.add_row(
            plain(call.get("stepId", "")),
            plain(call.get("agentName", "")),
            plain(f"{call.get('server')}.{call.get('tool')}"),
            plain(arguments),
            f"{float(call.get('durationMs') or 0):.0f}",
            plain(_clip(result or "", 80)),
        )
    return table


def _clip(value: object, limit: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
def watch(execution: str) -> None:
    """Follow an execution live, wherever it runs, until it ends."""
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            found = find_execution(session, execution, user_id=user_id)
            first = EventRepository(session).first_id(found.id)
        view = view_for(database, found, user_id)
        view.last_event_id = (first or 1) - 1
        watch_execution(
            database,
            user_id=user_id,
            execution_id=found.id,
            view=view,
            console=console,
            on_approval=approval_handler(
                "ask", database=database, user_id=user_id, console=console
            ),
        )
        print_summary(console, run_report(database, found.id, user_id))
    finally:
        database.dispose()


@app.command()
def retry(
    execution: Annotated[
        str, typer.Argument(help="A failed or cancelled execution (ID or prefix).")
    ],
    json_: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object at the end instead of the live view."),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Cancel the retry after this many seconds.")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Approve every tool call that needs approval.")
    ] = False,
) -> None:
    """Retry a failed or cancelled execution from where it stopped: a new execution (same
    inputs, same workspace) keeps the results of the steps that completed, unless you changed
    them since, and runs the rest with a live view. The exit code is 0 only if it completed."""
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            found = find_execution(session, execution, user_id=user_id)
        check_retry(found)  # before the engine's start, which takes a few seconds
        report = run_workflow(
            database,
            user_id=user_id,
            workflow_id=found.workflow_id,
            console=None if json_ else console,
            timeout_s=timeout,
            approvals="auto" if auto_approve else "ask",
            retry_of=found.id,
        )
    finally:
        database.dispose()
    if json_:
        print_json(report.data)
    else:
        print_summary(console, report)
        print_deliverable(console, report)
    sys.exit(0 if report.completed else 1)


@app.command()
def files(execution: str, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the files in an execution's workspace, and which step and agent wrote each."""
    with local_session() as (session, user_id):
        found = find_execution(session, execution, user_id=user_id)
        listed = list_files(session, found.id)
        folder = locate_workspace(session, found.id).root
    if json_:
        print_json([f.to_json_dict() for f in listed])
        return
    if not listed:
        console.print(f"No files in the workspace ({plain(folder)}).", highlight=False)
        return
    table = Table("path", "size", "step", "agent")
    for f in listed:
        step = f"{f.step_id} (attempt {f.attempt})" if f.step_id else "unknown"
        table.add_row(
            plain(f.path),
            f"{f.size:,}",
            plain(step),
            plain(f.agent_name or f.agent_id or "unknown"),
        )
    console.print(table)
    console.print(f"in {plain(folder)}", highlight=False)


@app.command()
def download(
    execution: str,
    path: Annotated[
        str | None, typer.Argument(help="One file (as `files` lists it); omitted: all, as a zip.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to save: a file name, or an existing folder to save into (default: "
            "the current folder).",
        ),
    ] = None,
) -> None:
    """Save one workspace file, or all of them as a zip."""
    with local_session() as (session, user_id):
        found = find_execution(session, execution, user_id=user_id)
        workspace = locate_workspace(session, found.id)
    if path is None:
        target = _target(output, f"workspace-{found.id[:8]}.zip")
        with target.open("wb") as out:
            count = workspace.write_zip(out)
        console.print(f"Saved {count} file(s) to {plain(target)}", highlight=False)
        return
    source = workspace.resolve(path)
    if source.is_symlink() or not source.is_file():
        raise NotFound("workspace file", path)
    target = _target(output, source.name)
    shutil.copyfile(source, target)
    console.print(
        f"Saved {plain(path)} ({target.stat().st_size:,} bytes) to {plain(target)}",
        highlight=False,
    )


def _target(output: Path | None, name: str) -> Path:
    if output is None:
        return Path.cwd() / name
    if output.is_dir():
        return output / name
    if not output.parent.is_dir():
        raise AccordError(f"--output {output}: folder {output.parent} does not exist")
    return output


@app.command()
def export(
    execution: Annotated[str, typer.Argument(help="An execution ID or a unique prefix.")],
    format_: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="md: a readable report; json: the same as data; zip: both, with the "
            "workspace files.",
        ),
    ] = "md",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The file to write (md and json print to the terminal without it; a zip "
            "goes to accord-execution-ID.zip).",
        ),
    ] = None,
) -> None:
    """Export an execution's report: its deliverable, each step's result, the interactions,
    the knowledge and the metrics."""
    with local_session() as (session, user_id):
        found = find_execution(session, execution, user_id=user_id)
        report = build_report(session, found.id, user_id=user_id)
        contents = workspace_contents(session, report) if format_ == "zip" else []
    if format_ == "zip":
        target = output or Path(f"accord-execution-{report.execution_id[:8]}.zip")
        target.write_bytes(report_zip(report, contents))
        console.print(f"Report written to {target}", markup=False, highlight=False)
        return
    text = report_markdown(report) if format_ == "md" else report_json(report)
    if output is None:
        typer.echo(neutralise(text), nl=False)  # a file gets the text exactly
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"Report written to {output}", markup=False, highlight=False)
