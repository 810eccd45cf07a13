"""What an operator watches that only the database knows: executions by status, the queue of
step attempts, approvals waiting for a person, each process's last heartbeat. Read at every
scrape of the server's `/metrics`, so each is one small aggregate query."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.storage.tables import (
    collaboration_workflows,
    step_runs,
    tool_approvals,
    workers,
    workflow_executions,
)


@dataclass(frozen=True)
class ExecutionCount:
    workflow_id: str
    workflow_name: str
    status: str
    count: int


@dataclass(frozen=True)
class ProcessHeartbeat:
    executor_id: str
    role: str
    heartbeat_at: float


@dataclass(frozen=True)
class OperationsSnapshot:
    executions: list[ExecutionCount]
    queued_attempts: int
    """Attempts waiting to run (pending) in running executions: queued, or in a backoff."""
    oldest_queued_at: float | None
    """When the longest-waiting of them was queued (Unix time)."""
    running_by_executor: dict[str, int]
    approvals_waiting: int
    heartbeats: list[ProcessHeartbeat]
    """Processes that have not retired (a clean stop retires a process)."""


class OperationsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def snapshot(self) -> OperationsSnapshot:
        s = self.session
        e, w = workflow_executions, collaboration_workflows
        executions = [
            ExecutionCount(r.workflow_id, r.name, r.status, r.n)
            for r in s.execute(
                select(e.c.workflow_id, w.c.name, e.c.status, func.count().label("n"))
                .join(w, w.c.id == e.c.workflow_id)
                .group_by(e.c.workflow_id, w.c.name, e.c.status)
            )
        ]
        queued = s.execute(
            select(func.count(), func.min(step_runs.c.created_at))
            .join(workflow_executions, workflow_executions.c.id == step_runs.c.execution_id)
            .where(
                step_runs.c.status == StepRunStatus.PENDING,
                workflow_executions.c.status == ExecutionStatus.RUNNING,
            )
        ).one()
        running = {
            r[0]: r[1]
            for r in s.execute(
                select(step_runs.c.executor_id, func.count())
                .where(step_runs.c.status == StepRunStatus.RUNNING)
                .group_by(step_runs.c.executor_id)
            )
            if r[0] is not None
        }
        approvals = s.execute(
            select(func.count()).where(tool_approvals.c.status == "pending")
        ).scalar_one()
        heartbeats = [
            ProcessHeartbeat(r.executor_id, r.role, r.heartbeat_at)
            for r in s.execute(
                select(workers.c.executor_id, workers.c.role, workers.c.heartbeat_at).where(
                    workers.c.heartbeat_at > 0
                )
            )
        ]
        return OperationsSnapshot(
            executions=executions,
            queued_attempts=queued[0],
            oldest_queued_at=queued[1],
            running_by_executor=running,
            approvals_waiting=approvals,
            heartbeats=heartbeats,
        )
