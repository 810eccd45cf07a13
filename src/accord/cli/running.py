"""Running a workflow from the terminal: the engine and the agent team in this process, the
live view in a thread beside them, and the report that `accord run --json` prints.

The live view reads only the event log, so it would show the same thing for an execution
running in another process; the report reads the recorded rows once the execution has ended.
"""

import asyncio
import os
import signal
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from accord.cli.approving import ApprovalMode, approval_handler
from accord.cli.live import ExecutionView, latest_event_id, watch_execution
from accord.cli.terminal import SafeConsole, plain
from accord.domain.enums import ExecutionStatus
from accord.domain.execution import WorkflowExecution
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team import read_outcome, unfinished_execution
from accord.tools.workspace_folder import locate_workspace


@dataclass(frozen=True)
class RunReport:
    """What `accord run --json` prints: one object, camelCase like the API."""

    data: dict[str, Any]

    @property
    def completed(self) -> bool:
        status: str = self.data["status"]
        return status == ExecutionStatus.COMPLETED.value


def run_workflow(
    database: Database,
    *,
    user_id: str,
    workflow_id: str,
    console: Console | None,
    timeout_s: float | None = None,
    workspace: str | None = None,
    inputs: dict[str, Any] | None = None,
    approvals: ApprovalMode = "ask",
    retry_of: str | None = None,
) -> RunReport:
    """Start an execution of the workflow with `inputs` (working in `workspace` if given),
    or retry the failed execution `retry_of` (see `Engine.retry`), show it live on `console`
    (None: silently), wait for it to end, and report on it. Tool calls waiting for approval
    are handled as `approvals` says (see `accord.cli.approving`)."""
    try:
        return asyncio.run(
            _run(
                database,
                user_id,
                workflow_id,
                console,
                timeout_s,
                workspace,
                inputs or {},
                approvals,
                retry_of,
            )
        )
    except asyncio.CancelledError:  # SIGTERM: stopped cleanly, as Ctrl-C stops it
        raise KeyboardInterrupt from None


async def _run(
    database: Database,
    user_id: str,
    workflow_id: str,
    console: Console | None,
    timeout_s: float | None,
    workspace: str | None,
    inputs: dict[str, Any],
    approvals: ApprovalMode,
    retry_of: str | None,
) -> RunReport:
    os.environ.setdefault("ACCORD_DBOS_LOG_LEVEL", "ERROR")  # keep the terminal for the team
    from accord.engine.service import Engine  # the engine stack loads only when running
    from accord.team import AgentTeam

    # SIGTERM stops the engine cleanly, as Ctrl-C does: this process retires at once, and
    # another (accord serve, the next run of the file) resumes the execution at its next
    # heartbeat round instead of after the failover time.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    engine = Engine(database, AgentTeam(database))
    await engine.start()
    try:
        start_id = await asyncio.to_thread(latest_event_id, database)
        unfinished = await asyncio.to_thread(unfinished_execution, database, workflow_id, user_id)
        if retry_of is not None:  # refused (naming why) while another run of it is under way
            execution = await engine.retry(retry_of, user_id)
        elif unfinished is None:
            execution = await engine.start_execution(
                workflow_id, user_id, workspace=workspace, inputs=inputs
            )
        else:  # resumed by this engine's start if its process is gone: watch it from its start
            execution, start_id = unfinished, 0
            if console is not None:
                console.print(
                    f"[yellow]Execution #{execution.execution_number} of this workflow had not "
                    "ended; following it (changes to the file apply from the next run).[/]"
                )
        ended = threading.Event()
        watcher = None
        # Without a live view (`--json`), a quiet one still approves calls automatically.
        shown = console or (SafeConsole(quiet=True) if approvals == "auto" else None)
        if shown is not None:
            view = await asyncio.to_thread(view_for, database, execution, user_id)
            view.last_event_id = start_id
            watcher = asyncio.create_task(
                asyncio.to_thread(
                    watch_execution,
                    database,
                    user_id=user_id,
                    execution_id=execution.id,
                    view=view,
                    console=shown,
                    is_done=ended.is_set,
                    on_approval=approval_handler(
                        approvals, database=database, user_id=user_id, console=shown
                    ),
                )
            )
        try:
            execution = await engine.wait(execution.id, timeout=timeout_s)
        except TimeoutError:
            execution = await engine.cancel(
                execution.id,
                user_id,
                reason=f"not finished within accord run's --timeout of {timeout_s:g} s",
            )
        finally:
            ended.set()
            if watcher is not None:
                await watcher
    finally:
        await engine.stop()
    return await asyncio.to_thread(build_report, database, execution.id, user_id)


def view_for(database: Database, execution: WorkflowExecution, user_id: str) -> ExecutionView:
    with database.session() as session:
        workflow = WorkflowRepository(session).get(execution.workflow_id, user_id=user_id)
        names = {a.id: a.name for a in AgentRepository(session).list(user_id=user_id)}
    definition = execution.definition or {"configuration": workflow.configuration.to_json_dict()}
    return ExecutionView.for_definition(
        execution.id,
        title=f"{workflow.name} #{execution.execution_number}",
        definition=definition,
        agent_names=names,
    )


def build_report(database: Database, execution_id: str, user_id: str) -> RunReport:
    """The execution's outcome (see `accord.team.outcome`) as `accord run --json` prints it."""
    outcome = read_outcome(database, execution_id, user_id)
    execution, names = outcome.execution, outcome.agent_names
    with database.read_session() as session:
        workspace = locate_workspace(session, execution.id)
    steps: dict[str, dict[str, Any]] = {}
    for step_id, last in outcome.latest_runs().items():
        steps[step_id] = {
            "status": last.status.value if last else "pending",
            "agent": names.get(last.agent_id or "", last.agent_id) if last else None,
            "agentId": last.agent_id if last else None,
            "attempts": sum(1 for r in outcome.step_runs if r.step_id == step_id and r.started_at),
        }
    usage = outcome.usage
    return RunReport(
        {
            "executionId": execution.id,
            "workflowId": execution.workflow_id,
            "executionNumber": execution.execution_number,
            "retryOf": execution.retry_of,
            "status": execution.status.value,
            "error": execution.error_message,
            "durationS": execution.actual_duration,
            "steps": steps,
            "interactions": dict(Counter(i.interaction_type.value for i in outcome.interactions)),
            "knowledgeItems": len(outcome.knowledge),
            "childExecutions": len(outcome.family) - 1,
            "workspace": {"path": str(workspace.root), "files": len(workspace.files())},
            "metrics": outcome.metrics.to_json_dict(),
            "usage": usage.to_json_dict() | {"totalTokens": usage.total_tokens},
            "deliverable": execution.deliverable.to_json_dict() if execution.deliverable else None,
        }
    )


def print_summary(console: Console, report: RunReport) -> None:
    data = report.data
    style = "green" if report.completed else "bold red"
    console.print(
        f"[{style}]Execution {data['status']}[/] ({data['executionId']})", highlight=False
    )
    if data["error"]:
        console.print(Text(f"  error: {data['error']}"), highlight=False)
    usage = data["usage"]
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row(
        "tokens",
        f"{usage['totalTokens']:,} ({usage['inputTokens']:,} in, "
        f"{usage['outputTokens']:,} out) in {usage['modelCalls']} model calls",
    )
    table.add_row("cost", f"${usage['costUsd']:.4f}")
    if usage.get("toolCalls"):
        table.add_row(
            "tool calls", f"{usage['toolCalls']} ({usage.get('toolSeconds', 0.0):.2f} s in tools)"
        )
    table.add_row(
        "interactions",
        ", ".join(
            f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(data["interactions"].items())
        )
        or "none",
    )
    table.add_row("knowledge items", str(data["knowledgeItems"]))
    if data["childExecutions"]:
        table.add_row("child executions", str(data["childExecutions"]))
    workspace = data["workspace"]
    if workspace["files"]:
        table.add_row(
            "files",
            f"{workspace['files']} in {plain(workspace['path'])} "
            f"(`accord executions files {data['executionId'][:8]}`)",
        )
    metrics = data["metrics"]
    table.add_row(
        "scores",
        f"collaboration {metrics['collaborationScore']:.1f}, "
        f"efficiency {metrics['efficiencyRating']:.1f}, "
        f"quality {metrics['qualityScore']:.1f} (of 10)",
    )
    console.print(table)


def print_deliverable(console: Console, report: RunReport) -> None:
    """The deliverable, rendered as markdown. Model text is markdown, never Rich markup: a
    `[bold]` or `[/x]` it contains is printed as written."""
    deliverable = report.data.get("deliverable")
    if not deliverable:
        return
    console.print()
    console.print(Rule("Deliverable", style="green"))
    console.print(Markdown(deliverable["markdown"]))
    console.print(Rule(style="green"))


def write_deliverable(console: Console, report: RunReport, path: Path) -> None:
    """`accord run --output FILE`: the deliverable's markdown, as the team wrote it."""
    deliverable = report.data.get("deliverable")
    if not deliverable:
        console.print(
            f"No deliverable to write to {path}: the execution {report.data['status']}.",
            style="yellow",
            markup=False,
            highlight=False,
        )
        return
    path.write_text(deliverable["markdown"], encoding="utf-8")
    console.print(f"Deliverable written to {path}", markup=False, highlight=False)
