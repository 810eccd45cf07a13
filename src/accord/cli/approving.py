"""Answering tool calls that wait for approval from the live view (`accord run`, `accord
demo`, `accord executions watch`).

In a terminal the user is asked, one call at a time; `--auto-approve` (and the demo when no
one is at a terminal) approves each call and says so. Otherwise the view only shows what
waits, and the decision comes from elsewhere (`accord approvals`, the browser, the API), so
an unattended run never blocks on a prompt. A decision is written to the database and wakes
the waiting attempt, wherever it runs.
"""

import contextlib
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

from rich.console import Console
from rich.prompt import Prompt

from accord.cli.live import call_text
from accord.cli.terminal import plain
from accord.domain.approval import ToolApproval
from accord.domain.errors import IllegalTransition
from accord.storage.db import Database

ApprovalMode = Literal["ask", "auto", "wait"]
Handler = Callable[[Mapping[str, Any]], None]


def approval_handler(
    mode: ApprovalMode, *, database: Database, user_id: str, console: Console
) -> Handler | None:
    """What the live view does with a call waiting for approval: ask (only when someone is at
    the terminal; otherwise wait), approve automatically, or leave it to be decided elsewhere."""
    if mode == "auto":
        return lambda approval: _auto(approval, database, user_id)
    if mode == "ask" and console.is_terminal and sys.stdin.isatty():
        return _Asking(database, user_id, console)
    return None


def _auto(approval: Mapping[str, Any], database: Database, user_id: str) -> None:
    """Approve the call; the feed's `approved ...: auto-approved` line says so."""
    with contextlib.suppress(IllegalTransition):  # decided elsewhere meanwhile
        decide(database, user_id, str(approval["approvalId"]), approve=True, reason="auto-approved")


class _Asking:
    """Asks the user about each call, until they answer `a` (approve all from now on)."""

    def __init__(self, database: Database, user_id: str, console: Console) -> None:
        self.database = database
        self.user_id = user_id
        self.console = console
        self.approve_all = False

    def __call__(self, approval: Mapping[str, Any]) -> None:
        if self.approve_all:
            _auto(approval, self.database, self.user_id)
            return
        who = approval.get("agentName") or "An agent"
        self.console.print(
            f"\n[bold cyan]{plain(str(who))}[/] wants to call "
            f"[bold]{plain(call_text(approval))}[/] (step {plain(str(approval.get('stepId')))})",
            highlight=False,
        )
        answer = Prompt.ask(
            "Allow it? y: approve, n: reject, a: approve this and every later call of this run, "
            "s: skip (decide later: accord approvals)",
            choices=["y", "n", "a", "s"],
            default="y",
            console=self.console,
        )
        if answer == "s":
            return
        self.approve_all = answer == "a"
        reason = None
        if answer == "n":
            reason = Prompt.ask("Why (the agent reads it)", default="", console=self.console)
        try:
            decide(
                self.database,
                self.user_id,
                str(approval["approvalId"]),
                approve=answer != "n",
                reason=reason or None,
            )
        except IllegalTransition as exc:
            self.console.print(f"[yellow]Decided elsewhere meanwhile ({exc.current}).[/]")


def decide(
    database: Database, user_id: str, approval_id: str, *, approve: bool, reason: str | None
) -> ToolApproval:
    """Decide and wake the attempt; `IllegalTransition` when it is no longer pending."""
    from accord.engine import approvals  # the engine stack loads only when deciding
    from accord.engine.dbos_runtime import system_database_url_for

    with database.session() as session:
        decided = approvals.decide(
            session, approval_id, user_id=user_id, approve=approve, reason=reason
        )
    approvals.notify_from_outside(system_database_url_for(database), decided)
    return decided
