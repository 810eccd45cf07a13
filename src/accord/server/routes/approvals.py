"""Tool calls waiting for the user's approval, and the user's decisions on them.

A decision is written to the table and then wakes the attempt waiting for it, wherever it
runs (`Engine.decide_approval`); a server started without an engine (tests of the API alone)
wakes it through a DBOS client instead. Another user's approvals are not found; deciding one
that is no longer pending (decided, or expired with its attempt) is a 409.
"""

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request

from accord.domain.approval import ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.engine import approvals
from accord.engine.dbos_runtime import system_database_url_for
from accord.engine.service import Engine
from accord.server.access import ReadAccess, RunAccess
from accord.server.deps import SessionDep
from accord.server.pagination import PageDep
from accord.server.schemas import ERROR_RESPONSES, ApprovalDecision
from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.approvals import ApprovalRepository

router = APIRouter(tags=["approvals"], responses=ERROR_RESPONSES)


@router.get("/approvals")
def list_approvals(
    access: ReadAccess,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ApprovalStatus | None, Query()] = None,
    execution_id: Annotated[str | None, Query(alias="executionId")] = None,
) -> list[ToolApproval]:
    """The user's approvals, oldest first (`status=pending` those waiting for a decision;
    `executionId=` one execution's)."""
    return page.of(
        ApprovalRepository(session).list(
            user_id=access.owner_id, status=status, execution_id=execution_id
        )
    )


@router.get("/approvals/{approval_id}")
def get_approval(approval_id: str, access: ReadAccess, session: SessionDep) -> ToolApproval:
    return ApprovalRepository(session).get(approval_id, user_id=access.owner_id)


@router.post("/approvals/{approval_id}/approve")
async def approve(
    approval_id: str, access: RunAccess, request: Request, body: ApprovalDecision | None = None
) -> ToolApproval:
    """Let the call be made; the attempt goes on at once."""
    return await _decide(request, approval_id, access.owner_id, True, body.reason if body else None)


@router.post("/approvals/{approval_id}/reject")
async def reject(
    approval_id: str, access: RunAccess, request: Request, body: ApprovalDecision | None = None
) -> ToolApproval:
    """Refuse the call; the model gets the refusal and `reason` as the tool's answer."""
    return await _decide(
        request, approval_id, access.owner_id, False, body.reason if body else None
    )


async def _decide(
    request: Request, approval_id: str, user_id: str, approve: bool, reason: str | None
) -> ToolApproval:
    engine: Engine | None = request.app.state.engine
    if engine is not None:
        return await engine.decide_approval(approval_id, user_id, approve=approve, reason=reason)
    db: Database = request.app.state.db
    settings: ServerSettings = request.app.state.settings

    def decide() -> ToolApproval:
        with db.session() as s:
            return approvals.decide(s, approval_id, user_id=user_id, approve=approve, reason=reason)

    decided = await to_thread.run_sync(decide)
    url = system_database_url_for(db, settings.state_dir)
    await to_thread.run_sync(approvals.notify_from_outside, url, decided)
    return decided
