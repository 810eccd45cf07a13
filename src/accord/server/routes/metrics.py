"""CollaborationMetrics computed from the recorded rows (formulas: `accord.team.metrics`)."""

from fastapi import APIRouter

from accord.domain.metrics import CollaborationMetrics
from accord.server.access import ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.team import execution_metrics, workflow_metrics

router = APIRouter(tags=["metrics"], responses=ERROR_RESPONSES)


@router.get("/workflows/{workflow_id}/analytics")
def workflow_analytics(
    workflow_id: str, access: ReadAccess, session: SessionDep
) -> CollaborationMetrics:
    """All of the workflow's top-level executions together (the spec's getAnalytics)."""
    return workflow_metrics(session, workflow_id, user_id=access.owner_id)


@router.get("/executions/{execution_id}/metrics")
def execution_analytics(
    execution_id: str, access: ReadAccess, session: SessionDep
) -> CollaborationMetrics:
    """One execution, with per-agent figures."""
    return execution_metrics(session, execution_id, user_id=access.owner_id)
