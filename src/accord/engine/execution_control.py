"""Pause, resume and cancel an execution on request."""

from sqlalchemy.orm import Session

from accord.domain.enums import ExecutionStatus, WorkflowStatus
from accord.domain.errors import IllegalTransition
from accord.domain.events import EventKind, ExecutionStatusChanged
from accord.domain.execution import WorkflowExecution
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.engine.advancing import Advancer
from accord.engine.execution_ends import ExecutionEnds
from accord.engine.transaction_results import AdvanceResult
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.workflows import WorkflowRepository


class ExecutionControl:
    def __init__(self, ends: ExecutionEnds, advancer: Advancer) -> None:
        self.ends = ends
        self.advancer = advancer

    def control(
        self,
        session: Session,
        execution_id: str,
        user_id: str,
        requested: ExecutionStatus,
        *,
        reason: str = "cancelled by the user",
    ) -> tuple[WorkflowExecution, AdvanceResult]:
        """Pause, resume or cancel (for `reason`), along the legal transitions only."""
        repo = ExecutionRepository(session)
        execution = repo.lock(execution_id, user_id=user_id, light=True)
        if requested is ExecutionStatus.CANCELLED:
            if execution.status in TERMINAL_EXECUTION:
                raise IllegalTransition("execution", execution_id, execution.status, requested)
            result = self.ends.cancel(session, execution, reason)
            return repo.get(execution_id), result
        updated = repo.set_status(execution, requested)
        EventRepository(session).append(
            execution_id=execution_id,
            user_id=user_id,
            kind=EventKind.EXECUTION_STATUS,
            data=ExecutionStatusChanged(status=str(requested), previous=str(execution.status)),
        )
        if execution.parent_execution_id is None:
            workflow = repo.workflow(execution.workflow_id, user_id=user_id)
            target = (
                WorkflowStatus.PAUSED
                if requested is ExecutionStatus.PAUSED
                else WorkflowStatus.ACTIVE
            )
            WorkflowRepository(session).set_status(workflow, target)
        result = self.advancer.advance(session, execution_id)
        return repo.get(execution_id) if result.finished else updated, result
