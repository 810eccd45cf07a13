"""`accord approvals ...`: tool calls waiting for your approval, and your decisions.

The decision is written to the local database and then wakes the attempt waiting for it,
wherever it runs (this machine's `accord serve`, another terminal's `accord run`, a worker);
one made while nothing runs is found when the attempt resumes.
"""

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli.approving import decide
from accord.cli.context import (
    AccordApp,
    console,
    local_session,
    local_user_id,
    open_database,
    pick,
    print_json,
    short_id,
)
from accord.domain.approval import ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.storage.repositories.approvals import ApprovalRepository

app = AccordApp(no_args_is_help=True, help="Tool calls waiting for your approval.")

ARGUMENTS_SHOWN = 80
"""Characters of a call's arguments the table shows (`--json` has them whole)."""


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
    table = Table("id", "status", "call", "arguments", "agent", "step", "execution", "asked")
    for a in found:
        arguments = json.dumps(a.arguments, separators=(",", ":"))
        if len(arguments) > ARGUMENTS_SHOWN:
            arguments = arguments[: ARGUMENTS_SHOWN - 1] + "…"
        table.add_row(
            short_id(a.id),
            a.status.value,
            escape(f"{a.server}.{a.tool}"),
            escape(arguments),
            escape(a.agent_name or "-"),
            escape(f"{a.step_id} (attempt {a.attempt})"),
            short_id(a.execution_id),
            a.created_at.astimezone().strftime("%H:%M:%S"),
        )
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
