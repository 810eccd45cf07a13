"""Durable waits for a user's approval of a tool call, inside the attempt's DBOS workflow.

The `tool_approvals` table is the truth; a DBOS message only wakes the waiting attempt.
Deciding writes the row (with its `approval.decided` event), commits, then sends a message
to the attempt's workflow (`notify`). The attempt waits in `DBOS.recv_async`, which holds no
thread and no CPU, survives restarts (DBOS keeps unconsumed messages, and a resumed attempt
replays its recorded steps up to the wait), and on Postgres wakes at once (on SQLite within
DBOS's polling interval, about a second).

Each round of the wait is the same DBOS operations, so that replays line up: an unrecorded
read of the row (a decision made while no process ran the attempt is found at once, and the
attempt sends itself the wake-up message in case the decider could not), a receive bounded
by the deadline and by `RECHECK_S`, and a recorded read that expires the row once its
deadline has passed. A decision whose message was lost while the attempt kept waiting (the
decider died between its commit and its send) is found by the next round, within
`RECHECK_S`.
"""

import asyncio
import contextvars
import logging
import time
from typing import Any

from dbos import DBOS, DBOSClient
from sqlalchemy.orm import Session

from accord.domain.approval import ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.domain.errors import NotFound
from accord.domain.events import ApprovalEvent, EventKind
from accord.domain.ports import ApprovalRequest
from accord.domain.tools import redact
from accord.domain.workflow import Constraints
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.approvals import ApprovalRepository
from accord.storage.repositories.events import EventRepository

RECHECK_S = 300.0
"""The longest one receive waits before the row is read again (see the module's doc)."""

log = logging.getLogger(__name__)

AttemptKey = tuple[str, str, int]


def approval_topic(approval_id: str) -> str:
    return f"approval:{approval_id}"


def attempt_of(approval: ToolApproval) -> str:
    """The DBOS workflow ID of the attempt that waits for `approval`."""
    return f"{approval.execution_id}:{approval.step_id}:{approval.attempt}"


def _event_data(approval: ToolApproval) -> ApprovalEvent:
    """The `approval.*` event payload (docs/contracts.md)."""
    return {
        "approvalId": approval.id,
        "stepId": approval.step_id,
        "attempt": approval.attempt,
        "agentId": approval.agent_id,
        "agentName": approval.agent_name,
        "server": approval.server,
        "tool": approval.tool,
        "arguments": approval.arguments,
        "decision": None if approval.status is ApprovalStatus.PENDING else approval.status.value,
        "approved": approval.approved if approval.decided else None,
        "reason": approval.reason,
        "deadlineAt": approval.deadline_at.timestamp() if approval.deadline_at else None,
    }


def _append(session: Session, approval: ToolApproval, user_id: str, kind: EventKind) -> None:
    EventRepository(session).append(
        execution_id=approval.execution_id,
        user_id=user_id,
        kind=kind,
        step_id=approval.step_id,
        data=_event_data(approval),
    )


def record_request(
    session: Session,
    *,
    key: AttemptKey,
    number: int,
    user_id: str,
    request: ApprovalRequest,
    constraints: Constraints,
) -> ToolApproval:
    """The attempt's `number`th approval request, recorded with its `approval.requested` event
    (found again, not repeated, by a replay)."""
    execution_id, step_id, attempt = key
    try:
        agent_name: str | None = AgentRepository(session).get_any(request.agent_id).name
    except NotFound:
        agent_name = None
    minutes = constraints.approval_timeout_minutes
    approval, created = ApprovalRepository(session).request(
        request_key=f"{execution_id}:{step_id}:{attempt}:{number}",
        execution_id=execution_id,
        user_id=user_id,
        step_id=step_id,
        attempt=attempt,
        agent_id=request.agent_id,
        agent_name=agent_name,
        server=request.server,
        tool=request.tool,
        arguments=redact(dict(request.arguments)),
        deadline_at=time.time() + minutes * 60 if minutes is not None else None,
        on_timeout=constraints.approval_timeout_outcome,
    )
    if created:
        _append(session, approval, user_id, EventKind.APPROVAL_REQUESTED)
    return approval


def settle(session: Session, approval_id: str, *, user_id: str, minutes: float) -> ToolApproval:
    """The approval as it stands, expired first if its deadline (`minutes` after the
    request) has passed undecided."""
    repo = ApprovalRepository(session)
    approval = repo.get(approval_id)
    deadline = approval.deadline_at
    if approval.decided or deadline is None or deadline.timestamp() > time.time():
        return approval
    outcome = "approved" if approval.on_timeout == "approve" else "rejected"
    expired = repo.decide(
        approval_id,
        ApprovalStatus.EXPIRED,
        reason=f"no decision within {minutes:g} minutes, so the call was {outcome} "
        "(constraints.approvalTimeoutOutcome)",
        decided_by=None,
    )
    _append(session, expired, user_id, EventKind.APPROVAL_DECIDED)
    return expired


def decide(
    session: Session, approval_id: str, *, user_id: str, approve: bool, reason: str | None
) -> ToolApproval:
    """A user's decision, with its `approval.decided` event; the user must own the approval
    (another user's is not found) and it must still be pending (else 409)."""
    ApprovalRepository(session).get(approval_id, user_id=user_id)
    decided = ApprovalRepository(session).decide(
        approval_id,
        ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED,
        reason=reason,
        decided_by=user_id,
    )
    _append(session, decided, user_id, EventKind.APPROVAL_DECIDED)
    return decided


def close_open(
    session: Session,
    execution_id: str,
    *,
    user_id: str,
    reason: str,
    step_id: str | None = None,
    attempt: int | None = None,
) -> None:
    """Expire the pending approvals of an execution that ended (or of an attempt that failed
    while it waited): nobody waits for them any more."""
    repo = ApprovalRepository(session)
    for approval in repo.pending_of(execution_id, step_id=step_id, attempt=attempt):
        expired = repo.decide(approval.id, ApprovalStatus.EXPIRED, reason=reason, decided_by=None)
        _append(session, expired, user_id, EventKind.APPROVAL_DECIDED)


async def notify(approval: ToolApproval) -> None:
    """Wake the attempt waiting for `approval` (from a process running an engine). A failure
    only delays it: the attempt reads the table again within RECHECK_S."""
    try:
        await DBOS.send_async(
            attempt_of(approval),
            {"approvalId": approval.id, "status": approval.status.value},
            approval_topic(approval.id),
            idempotency_key=f"{approval.id}:decided",
        )
    except Exception:  # the attempt ended meanwhile, or DBOS is down: the row is what counts
        log.warning(
            "could not wake the attempt waiting for approval %s", approval.id, exc_info=True
        )


def _not_woken(approval: ToolApproval) -> None:
    log.warning("could not wake the attempt waiting for approval %s", approval.id, exc_info=True)


def notify_from_outside(system_database_url: str, approval: ToolApproval) -> None:
    """`notify` from a process that runs no engine (the CLI), through a DBOS client."""
    from accord.engine.dbos_runtime import JsonSerializer

    try:
        client = DBOSClient(system_database_url=system_database_url, serializer=JsonSerializer())
    except Exception:
        log.warning(
            "could not reach DBOS to wake approval %s's attempt", approval.id, exc_info=True
        )
        return
    try:
        client.send(
            attempt_of(approval),
            {"approvalId": approval.id, "status": approval.status.value},
            approval_topic(approval.id),
            idempotency_key=f"{approval.id}:decided",
        )
    except Exception:
        log.warning(
            "could not wake the attempt waiting for approval %s", approval.id, exc_info=True
        )
    finally:
        client.destroy()


class AttemptApprovals:
    """`ctx.approvals` for one attempt: each wait runs inside the attempt's DBOS workflow."""

    def __init__(self, db: Database, key: AttemptKey, user_id: str, constraints: Constraints):
        self.db = db
        self.key = key
        self.user_id = user_id
        self.constraints = constraints
        self.asked = 0

    async def wait_for_approval(self, request: ApprovalRequest) -> ToolApproval:
        self.asked += 1
        number = self.asked
        raw = await DBOS.run_step_async(
            {"name": f"approval-request-{number}"}, self._request_sync, request, number
        )
        approval = ToolApproval.model_validate(raw)
        rounds = 0
        while True:
            rounds += 1
            current = await asyncio.to_thread(self._read_sync, approval.id)
            if current.decided:
                await _wake_from_outside_the_workflow(current)
            await DBOS.recv_async(approval_topic(approval.id), timeout_seconds=_wait_s(current))
            raw = await DBOS.run_step_async(
                {"name": f"approval-check-{number}-{rounds}"}, self._settle_sync, approval.id
            )
            settled = ToolApproval.model_validate(raw)
            if settled.decided:
                return settled

    def _request_sync(self, request: ApprovalRequest, number: int) -> dict[str, Any]:
        with self.db.session() as s:
            approval = record_request(
                s,
                key=self.key,
                number=number,
                user_id=self.user_id,
                request=request,
                constraints=self.constraints,
            )
            return approval.to_json_dict()

    def _read_sync(self, approval_id: str) -> ToolApproval:
        with self.db.read_session() as s:
            return ApprovalRepository(s).get(approval_id)

    def _settle_sync(self, approval_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            minutes = self.constraints.approval_timeout_minutes or 0.0
            return settle(s, approval_id, user_id=self.user_id, minutes=minutes).to_json_dict()


async def _wake_from_outside_the_workflow(approval: ToolApproval) -> None:
    """The wake-up message for an approval already decided, sent as if from another process.

    A resumed attempt replays its receive's timeout as recorded before the restart (up to
    RECHECK_S). Deciding sends a message that ends it at once; this one covers a decision
    whose message was never sent (its process died in between). Sent in an empty context, it
    is not a step of this workflow, so replays line up; the idempotency key makes it the same
    message as the decider's."""
    context = contextvars.Context()
    message = {"approvalId": approval.id, "status": approval.status.value}

    def send() -> None:
        DBOS.send(
            attempt_of(approval),
            message,
            approval_topic(approval.id),
            idempotency_key=f"{approval.id}:decided",
        )

    try:
        await asyncio.get_running_loop().run_in_executor(None, context.run, send)
    except Exception:  # the receive still ends within RECHECK_S
        _not_woken(approval)


def _wait_s(approval: ToolApproval) -> float:
    """How long this round's receive may wait: not at all once decided (found in the table),
    else until the deadline, at most RECHECK_S."""
    if approval.decided:
        return 0.0
    if approval.deadline_at is None:
        return RECHECK_S
    return max(0.0, min(RECHECK_S, approval.deadline_at.timestamp() - time.time()))
