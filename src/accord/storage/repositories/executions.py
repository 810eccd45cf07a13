"""Workflow executions, and the parts of their workflow the engine reads.

Status changes go through `accord.domain.transitions`. The engine locks an execution
(`lock`) at the start of every transaction that changes it, so concurrent attempt endings
queue on Postgres as they do on SQLite (where every writer begins immediate).

The workflow reads here are the engine's narrow view (status, definition, participants); the
workflows repository owns the full CRUD and every write.
"""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Row,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from accord.domain.deliverable import Deliverable
from accord.domain.enums import (
    ExecutionStatus,
    StepRunStatus,
    TriggerReason,
    WorkflowStatus,
    WorkflowType,
)
from accord.domain.errors import NotFound
from accord.domain.execution import Usage, WorkflowExecution
from accord.domain.transitions import check_transition
from accord.domain.workflow import WorkflowConfiguration
from accord.storage.repositories._convert import to_datetime, to_optional_datetime
from accord.storage.tables import (
    collaboration_workflows,
    epoch_now,
    new_id,
    step_runs,
    workflow_executions,
)


def _execution(row: Row[Any], results: dict[str, Any] | None = None) -> WorkflowExecution:
    """`results`: the step results of an execution still running (see `_RESULTS_KEPT`)."""
    return WorkflowExecution(
        id=row.id,
        workflow_id=row.workflow_id,
        execution_number=row.execution_number,
        trigger_reason=TriggerReason(row.trigger_reason),
        triggered_by=row.triggered_by,
        current_step_id=row.current_step_id,
        execution_context=row.execution_context or {},
        step_results=row.step_results or {} if results is None else results,
        active_agents=row.active_agents or [],
        agent_assignments=row.agent_assignments or {},
        status=ExecutionStatus(row.status),
        error_message=row.error_message,
        final_output=row.final_output,
        deliverable=Deliverable.model_validate(row.deliverable) if row.deliverable else None,
        started_at=to_datetime(row.started_at),
        completed_at=to_optional_datetime(row.completed_at),
        updated_at=to_datetime(row.updated_at),
        parent_execution_id=row.parent_execution_id,
        parent_step_id=row.parent_step_id,
        depth=row.depth,
        definition=row.definition or {},
        estimated_duration=row.estimated_duration,
        actual_duration=row.actual_duration,
        usage=Usage.model_validate(row.usage or {}),
        retry_of=row.retry_of,
    )


_HEAVY = {
    "definition",
    "step_results",
    "final_output",
    "deliverable",
    "agent_assignments",
    "active_agents",
    "usage",
}
_LIGHT_COLUMNS = [c for c in workflow_executions.c if c.name not in _HEAVY]

_parent = aliased(workflow_executions)
_IS_DELEGATION = exists().where(
    and_(
        _parent.c.id == workflow_executions.c.parent_execution_id,
        _parent.c.workflow_id == workflow_executions.c.workflow_id,
    )
)
"""A delegated sub-task runs as a child execution of its parent's own workflow: it is part
of the parent's run, not a run of the workflow (a sub-workflow is another workflow)."""

# The engine's hot statements, built once: building one costs more than running it.
_LOCK_LIGHT = (
    select(*_LIGHT_COLUMNS)
    .where(workflow_executions.c.id == bindparam("execution_id"))
    .with_for_update()
)
_RECORD_PROGRESS = (
    update(workflow_executions)
    .where(workflow_executions.c.id == bindparam("execution_id"))
    .values(
        current_step_id=bindparam("current_step_id"),
        active_agents=bindparam("active_agents", type_=workflow_executions.c.active_agents.type),
        usage=bindparam("usage", type_=workflow_executions.c.usage.type),
        updated_at=bindparam("updated_at"),
    )
)


@dataclass(frozen=True)
class _DialectStatements:
    record_start: Any


def _build(dialect: str) -> _DialectStatements:
    """`agent_assignments` changed in the database, a few keys set and the others untouched,
    so parallel steps never overwrite each other. Raw text both ways: no JSON is parsed."""
    we = workflow_executions.c
    by_id = we.id == bindparam("execution_id")
    assignments = func.coalesce(type_coerce(we.agent_assignments, Text), "{}")
    if dialect == "sqlite":
        assigned: ColumnElement[str] = func.json_patch(assignments, bindparam("assignments"))
    else:
        assigned = cast(
            cast(assignments, JSONB).op("||")(cast(bindparam("assignments", type_=Text), JSONB)),
            Text,
        )
    return _DialectStatements(
        record_start=update(workflow_executions)
        .where(by_id)
        .values(
            {
                we.agent_assignments: type_coerce(assigned, Text),
                we.active_agents: bindparam("active_agents", type_=we.active_agents.type),
                we.updated_at: bindparam("updated_at"),
            }
        ),
    )


_BY_DIALECT = {name: _build(name) for name in ("sqlite", "postgresql")}


def _statements(session: Session) -> _DialectStatements:
    return _BY_DIALECT[session.get_bind().dialect.name]


_RESULTS_KEPT = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)
"""Executions whose `step_results` column holds their results. While an execution runs its
results are read from its completed step runs instead: written into the execution's row at
every step, a long execution's results (tens of KB) were parsed and rewritten by each step's
update of the row, which made a step's cost grow with the execution's length. They are
written once, when it ends."""
_COMPLETED_RESULTS = (
    select(step_runs.c.execution_id, step_runs.c.step_id, step_runs.c.output)
    .where(
        step_runs.c.execution_id.in_(bindparam("execution_ids", expanding=True)),
        step_runs.c.status == StepRunStatus.COMPLETED,
    )
    .order_by(step_runs.c.finished_at, step_runs.c.created_at)
)


def _light_execution(row: Row[Any]) -> WorkflowExecution:
    return WorkflowExecution(
        id=row.id,
        workflow_id=row.workflow_id,
        execution_number=row.execution_number,
        trigger_reason=TriggerReason(row.trigger_reason),
        triggered_by=row.triggered_by,
        current_step_id=row.current_step_id,
        execution_context=row.execution_context or {},
        status=ExecutionStatus(row.status),
        error_message=row.error_message,
        started_at=to_datetime(row.started_at),
        completed_at=to_optional_datetime(row.completed_at),
        updated_at=to_datetime(row.updated_at),
        parent_execution_id=row.parent_execution_id,
        parent_step_id=row.parent_step_id,
        depth=row.depth,
        estimated_duration=row.estimated_duration,
        actual_duration=row.actual_duration,
    )


@dataclass(frozen=True)
class WorkflowForRun:
    """What starting and finishing an execution needs of its workflow."""

    id: str
    user_id: str
    name: str
    status: WorkflowStatus
    workflow_type: WorkflowType
    configuration: WorkflowConfiguration
    participating_agents: list[str]
    coordinator_agent_id: str | None
    estimated_duration: int | None
    template_id: str | None = None

    def definition(self) -> dict[str, Any]:
        """The snapshot an execution runs, whatever later edits do to the workflow."""
        return {
            "workflowType": str(self.workflow_type),
            "configuration": self.configuration.to_json_dict(),
            "participatingAgents": list(self.participating_agents),
            "coordinatorAgentId": self.coordinator_agent_id,
        }


class ExecutionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _executions(self, rows: Iterable[Row[Any]]) -> list[WorkflowExecution]:
        """Executions from full rows, the step results of those still running read from their
        completed step runs (see `_RESULTS_KEPT`)."""
        rows = list(rows)
        running = [r.id for r in rows if ExecutionStatus(r.status) not in _RESULTS_KEPT]
        results = self._completed_results(running) if running else {}
        return [_execution(r, results.get(r.id)) for r in rows]

    def _completed_results(self, execution_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Execution ID -> step ID -> the result of its completed step run."""
        results: dict[str, dict[str, Any]] = {execution_id: {} for execution_id in execution_ids}
        for r in self.session.execute(_COMPLETED_RESULTS, {"execution_ids": execution_ids}):
            results[r.execution_id][r.step_id] = r.output
        return results

    def _one(self, row: Row[Any]) -> WorkflowExecution:
        return self._executions([row])[0]

    # --- executions ---------------------------------------------------------------------

    def create(
        self,
        *,
        workflow_id: str,
        user_id: str,
        trigger_reason: TriggerReason,
        triggered_by: str | None,
        definition: dict[str, Any],
        status: ExecutionStatus = ExecutionStatus.RUNNING,
        execution_context: dict[str, Any] | None = None,
        parent_execution_id: str | None = None,
        parent_step_id: str | None = None,
        depth: int = 0,
        estimated_duration: int | None = None,
        trigger_key: str | None = None,
        workspace_dir: str | None = None,
        retry_of: str | None = None,
    ) -> WorkflowExecution:
        """Insert with the workflow's next `execution_number`. The caller holds the workflow's
        lock (`lock_workflow`), so two starts never draw the same number; the unique key on
        (workflow_id, execution_number) is the backstop."""
        number = (
            self.session.execute(
                select(func.coalesce(func.max(workflow_executions.c.execution_number), 0)).where(
                    workflow_executions.c.workflow_id == workflow_id
                )
            ).scalar_one()
            + 1
        )
        now = epoch_now()
        row = self.session.execute(
            insert(workflow_executions)
            .values(
                id=new_id(),
                workflow_id=workflow_id,
                execution_number=number,
                trigger_reason=trigger_reason,
                triggered_by=triggered_by,
                status=status,
                definition=definition,
                execution_context=execution_context or {},
                step_results={},
                active_agents=[],
                agent_assignments={},
                started_at=now,
                updated_at=now,
                parent_execution_id=parent_execution_id,
                parent_step_id=parent_step_id,
                depth=depth,
                estimated_duration=estimated_duration,
                user_id=user_id,
                usage=Usage().to_json_dict(),
                trigger_key=trigger_key,
                workspace_dir=workspace_dir,
                retry_of=retry_of,
            )
            .returning(workflow_executions)
        ).one()
        return _execution(row, {})

    def get(self, execution_id: str, *, user_id: str | None = None) -> WorkflowExecution:
        query = select(workflow_executions).where(workflow_executions.c.id == execution_id)
        if user_id is not None:
            query = query.where(workflow_executions.c.user_id == user_id)
        row = self.session.execute(query).one_or_none()
        if row is None:
            raise NotFound("execution", execution_id)
        return self._one(row)

    def by_trigger_key(self, trigger_key: str) -> WorkflowExecution | None:
        """The execution a schedule tick, hook delivery or upstream run already started."""
        row = self.session.execute(
            select(workflow_executions).where(workflow_executions.c.trigger_key == trigger_key)
        ).one_or_none()
        return None if row is None else self._one(row)

    def ended_since(self, since: float) -> list[WorkflowExecution]:
        """Top-level executions that ended at or after `since` (epoch seconds)."""
        rows = self.session.execute(
            select(workflow_executions).where(
                workflow_executions.c.depth == 0,
                workflow_executions.c.completed_at >= int(since),
                workflow_executions.c.status.in_(["completed", "failed", "cancelled"]),
            )
        )
        return self._executions(rows)

    def status_of(self, execution_id: str) -> ExecutionStatus:
        """The execution's status, read without a lock."""
        status = self.session.execute(
            select(workflow_executions.c.status).where(workflow_executions.c.id == execution_id)
        ).scalar_one_or_none()
        if status is None:
            raise NotFound("execution", execution_id)
        return ExecutionStatus(status)

    def lock(
        self, execution_id: str, *, user_id: str | None = None, light: bool = False
    ) -> WorkflowExecution:
        """Read the execution and hold it until the transaction ends (FOR UPDATE on Postgres;
        SQLite writers are already serialised). `light` leaves out the large JSON columns
        (definition, step results, final output, assignments), which come back empty: the
        engine's hot path needs only the status and the IDs."""
        if light and user_id is None:
            row = self.session.execute(_LOCK_LIGHT, {"execution_id": execution_id}).one_or_none()
        else:
            columns = _LIGHT_COLUMNS if light else [workflow_executions]
            query = select(*columns).where(workflow_executions.c.id == execution_id)
            if user_id is not None:
                query = query.where(workflow_executions.c.user_id == user_id)
            row = self.session.execute(query.with_for_update()).one_or_none()
        if row is None:
            raise NotFound("execution", execution_id)
        return self._one(row) if not light else _light_execution(row)

    def record_start(
        self,
        execution_id: str,
        *,
        assignments: dict[str, str],
        active_agents: list[str],
    ) -> None:
        """Attempts started: their agents join `agent_assignments` (keys set in the database,
        so parallel steps never overwrite each other) and the agents at work are replaced."""
        self.session.execute(
            _statements(self.session).record_start,
            {
                "execution_id": execution_id,
                "assignments": json.dumps(assignments, separators=(",", ":")),
                "active_agents": active_agents,
                "updated_at": epoch_now(),
            },
        )

    def owner(self, execution_id: str) -> str:
        user_id: str = self.session.execute(
            select(workflow_executions.c.user_id).where(workflow_executions.c.id == execution_id)
        ).scalar_one()
        return user_id

    def list_for_workflow(self, workflow_id: str, *, user_id: str) -> list[WorkflowExecution]:
        rows = self.session.execute(
            select(workflow_executions)
            .where(
                workflow_executions.c.workflow_id == workflow_id,
                workflow_executions.c.user_id == user_id,
            )
            .order_by(workflow_executions.c.execution_number.desc())
        )
        return self._executions(rows)

    def list_unfinished(self) -> list[WorkflowExecution]:
        """Running and paused executions, for recovery after a restart."""
        rows = self.session.execute(
            select(workflow_executions).where(
                workflow_executions.c.status.in_([ExecutionStatus.RUNNING, ExecutionStatus.PAUSED])
            )
        )
        return self._executions(rows)

    def unfinished_children(
        self, parent_execution_id: str, *, started_by: str | None = None
    ) -> list[str]:
        """The IDs of the execution's children that have not ended (a light read); with
        `started_by`, only those the attempt with that DBOS workflow ID started (their
        `childKey` is that ID, a colon and a number)."""
        rows = self.session.execute(
            select(workflow_executions.c.id, workflow_executions.c.execution_context)
            .where(
                workflow_executions.c.parent_execution_id == parent_execution_id,
                workflow_executions.c.status.in_(
                    [
                        ExecutionStatus.PENDING.value,
                        ExecutionStatus.RUNNING.value,
                        ExecutionStatus.PAUSED.value,
                    ]
                ),
            )
            .order_by(workflow_executions.c.started_at, workflow_executions.c.id)
        )
        return [
            row.id
            for row in rows
            if started_by is None
            or str((row.execution_context or {}).get("childKey", "")).startswith(f"{started_by}:")
        ]

    def workspace_lineage(self, execution_id: str) -> list[tuple[str, str | None]]:
        """(execution ID, named workspace folder) from `execution_id` up through its parents,
        ending at the first that names a folder or has no parent: what locating its
        workspace needs (a child works inside its parent's)."""
        lineage: list[tuple[str, str | None]] = []
        current: str | None = execution_id
        while current is not None:
            row = self.session.execute(
                select(
                    workflow_executions.c.workspace_dir,
                    workflow_executions.c.parent_execution_id,
                ).where(workflow_executions.c.id == current)
            ).one_or_none()
            if row is None:
                raise NotFound("execution", current)
            lineage.append((current, row.workspace_dir))
            current = None if row.workspace_dir else row.parent_execution_id
        return lineage

    def children(self, parent_execution_id: str) -> list[WorkflowExecution]:
        rows = self.session.execute(
            select(workflow_executions)
            .where(workflow_executions.c.parent_execution_id == parent_execution_id)
            .order_by(workflow_executions.c.started_at, workflow_executions.c.id)
        )
        return self._executions(rows)

    def set_status(
        self,
        execution: WorkflowExecution,
        status: ExecutionStatus,
        *,
        error_message: str | None = None,
        final_output: Any = None,
        deliverable: Deliverable | None = None,
    ) -> WorkflowExecution:
        check_transition("execution", execution.id, execution.status, status)
        values: dict[str, Any] = {"status": status, "updated_at": epoch_now()}
        if status in _RESULTS_KEPT:
            now = time.time()
            values.update(
                completed_at=int(now),
                error_message=error_message,
                final_output=final_output,
                deliverable=deliverable.to_json_dict() if deliverable else None,
                active_agents=[],
                actual_duration=max(0, round(now - execution.started_at.timestamp())),
                step_results=self._completed_results([execution.id])[execution.id],
            )
        row = self.session.execute(
            update(workflow_executions)
            .where(workflow_executions.c.id == execution.id)
            .values(**values)
            .returning(workflow_executions)
        ).one()
        return self._one(row)

    def record_progress(
        self,
        execution_id: str,
        *,
        current_step_id: str | None,
        active_agents: list[str],
        usage: Usage,
    ) -> None:
        """Aggregates rebuilt from the step runs by the caller, never edited in place."""
        self.session.execute(
            _RECORD_PROGRESS,
            {
                "execution_id": execution_id,
                "current_step_id": current_step_id,
                "active_agents": active_agents,
                "usage": usage.to_json_dict(),
                "updated_at": epoch_now(),
            },
        )

    # --- runs of a workflow (delegated sub-tasks are not runs of it) ----------------------

    def past_durations(
        self, workflow_id: str, *, template_id: str | None, limit: int = 10
    ) -> tuple[list[int], list[int]]:
        """Seconds taken by the latest completed runs of the workflow, newest first, and by
        those of the other workflows made from `template_id`."""
        we = workflow_executions.c
        completed = (
            select(we.actual_duration)
            .where(
                we.status == ExecutionStatus.COMPLETED.value,
                we.actual_duration.is_not(None),
                ~_IS_DELEGATION,
            )
            .order_by(we.completed_at.desc(), we.id)
            .limit(limit)
        )
        own = list(self.session.execute(completed.where(we.workflow_id == workflow_id)).scalars())
        if own or template_id is None:
            return own, []
        siblings = select(collaboration_workflows.c.id).where(
            collaboration_workflows.c.template_id == template_id
        )
        from_template = self.session.execute(completed.where(we.workflow_id.in_(siblings)))
        return own, list(from_template.scalars())

    def other_unfinished_runs(self, workflow_id: str, *, exclude: str) -> int:
        """Runs of the workflow, other than `exclude`, that have not ended."""
        we = workflow_executions.c
        count: int = self.session.execute(
            select(func.count()).where(
                we.workflow_id == workflow_id,
                we.id != exclude,
                we.status.in_(
                    [ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.PAUSED]
                ),
                ~_IS_DELEGATION,
            )
        ).scalar_one()
        return count

    def latest_outcome(self, workflow_id: str, *, exclude: str) -> ExecutionStatus | None:
        """How the latest run of the workflow that completed or failed (not `exclude`)
        ended; None when none has."""
        we = workflow_executions.c
        status = self.session.execute(
            select(we.status)
            .where(
                we.workflow_id == workflow_id,
                we.id != exclude,
                we.status.in_([ExecutionStatus.COMPLETED, ExecutionStatus.FAILED]),
                ~_IS_DELEGATION,
            )
            .order_by(we.completed_at.desc(), we.started_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return ExecutionStatus(status) if status is not None else None

    # --- the workflow and agents, as the engine sees them ---------------------------------

    def workflow(self, workflow_id: str, *, user_id: str, lock: bool = False) -> WorkflowForRun:
        query = select(collaboration_workflows).where(
            collaboration_workflows.c.id == workflow_id,
            collaboration_workflows.c.user_id == user_id,
        )
        row = self.session.execute(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            raise NotFound("workflow", workflow_id)
        return WorkflowForRun(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            status=WorkflowStatus(row.status),
            workflow_type=WorkflowType(row.workflow_type),
            configuration=WorkflowConfiguration.model_validate(row.configuration),
            participating_agents=list(row.participating_agents or []),
            coordinator_agent_id=row.coordinator_agent_id,
            estimated_duration=row.estimated_duration,
            template_id=row.template_id,
        )

    def workflow_ids(self, *, user_id: str) -> set[str]:
        return set(
            self.session.execute(
                select(collaboration_workflows.c.id).where(
                    collaboration_workflows.c.user_id == user_id
                )
            ).scalars()
        )
