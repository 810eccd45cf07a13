"""`accord approvals ...`: tool calls waiting for your approval, and your decisions.

The decision is written to the local database and then wakes the attempt waiting for it,
wherever it runs (this machine's `accord serve`, another terminal's `accord run`, a worker);
one made while nothing runs is found when the attempt resumes.
"""

import json
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.approving import decide
from accord.cli.context import (
    AccordApp,
    console,
    local_session,
    print_json,
    short_id,
)
from accord.cli.terminal import plain
from accord.domain.approval import ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.domain.lookup import pick
from accord.storage.repositories.approvals import ApprovalRepository
from accord.team import local_user_id, open_database

app = AccordApp(no_args_is_help=True, help="Tool calls waiting for your approval.")


@app.command("list")
def list_approvals(
    all_: Annotated[
        bool, typer.Option("--all", help="Decided and expired ones too, not only pending.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the tool calls waiting for your decision (oldest first)."""
    with local_session() as (session, user_id):
        status = None if all_ else ApprovalStatus.PENDING
        found = ApprovalRepository(session).list(user_id=user_id, status=status)
    if json_:
        print_json([a.to_json_dict() for a in found])
        return
    if not found:
        console.print("No tool calls are waiting for your approval.")
        return
    columns = ["id", "status", "call", "arguments", "agent", "step", "execution"]
    if not all_:
        columns.remove("status")  # all pending
    # The arguments give way (cut short) so that the other columns keep their width.
    room = max(12, console.width - (70 if all_ else 60))
    table = Table()
    for column in columns:
        table.add_column(
            column,
            no_wrap=True,
            overflow="ellipsis",
            max_width=room if column == "arguments" else None,
        )
    for a in found:
        row = {
            "id": short_id(a.id),
            "status": a.status.value,
            "call": plain(f"{a.server}.{a.tool}"),
            "arguments": plain(json.dumps(a.arguments, separators=(",", ":"))),
            "agent": plain(a.agent_name or "-"),
            "step": plain(a.step_id if a.attempt == 1 else f"{a.step_id} (attempt {a.attempt})"),
            "execution": short_id(a.execution_id),
        }
        table.add_row(*(row[c] for c in columns))
    console.print(table)
    if not all_:
        console.print(
            "Decide: `accord approvals approve ID` or `accord approvals reject ID --reason ...`"
        )


@app.command()
def approve(
    approval: Annotated[str, typer.Argument(help="The approval's ID (or a unique prefix).")],
    reason: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Let a waiting tool call be made."""
    _decide(approval, approve=True, reason=reason, json_=json_)


@app.command()
def reject(
    approval: Annotated[str, typer.Argument(help="The approval's ID (or a unique prefix).")],
    reason: Annotated[
        str | None, typer.Option(help="Why: the agent's model reads it as the tool's answer.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Refuse a waiting tool call; the agent is told, with your reason."""
    _decide(approval, approve=False, reason=reason, json_=json_)


def _decide(wanted: str, *, approve: bool, reason: str | None, json_: bool) -> None:
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
            found = pick(
                ApprovalRepository(session).list(user_id=user_id),
                wanted,
                kind="approval",
                name=lambda a: a.id,
                ident=lambda a: a.id,
            )
        decided = decide(database, user_id, found.id, approve=approve, reason=reason or None)
    finally:
        database.dispose()
    if json_:
        print_json(decided.to_json_dict())
        return
    console.print(_said(decided), highlight=False)


def _said(approval: ToolApproval) -> str:
    verb = "Approved" if approval.status is ApprovalStatus.APPROVED else "Rejected"
    why = f": {approval.reason}" if approval.reason else ""
    return (
        f"{verb} {approval.server}.{approval.tool} for {approval.agent_name or 'the agent'} "
        f"(step {approval.step_id}){why}"
    )
