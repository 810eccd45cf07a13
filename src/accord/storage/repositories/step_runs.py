"""Step runs: one row per attempt at one step of one execution.

Status changes go through `accord.domain.transitions`; the unique (execution, step, attempt)
key makes inserting the same attempt twice fail loudly instead of running it twice.
"""

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    Row,
    bindparam,
    case,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from accord.domain.enums import StepRunStatus
from accord.domain.errors import NotFound
from accord.domain.execution import StepRun, Usage
from accord.domain.transitions import check_transition
from accord.storage.repositories._convert import to_optional_datetime
from accord.storage.tables import new_id, step_runs, workflow_executions


def _step_run(row: Row[*tuple[Any, ...]]) -> StepRun:
    """Rows are trusted (we wrote them), so the model is built without re-validation: listing
    the attempts of a long execution is on the engine's hot path."""
    return StepRun.model_construct(
        id=row.id,
        execution_id=row.execution_id,
        step_id=row.step_id,
        attempt=row.attempt,
        status=StepRunStatus(row.status),
        agent_id=row.agent_id,
        started_at=to_optional_datetime(row.started_at),
        finished_at=to_optional_datetime(row.finished_at),
        output=row.output,
        error=row.error,
        feedback=row.feedback,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        model_calls=row.model_calls,
        output_mode=row.output_mode,
        validation_retries=row.validation_retries,
        tool_calls=row.tool_calls,
        tool_seconds=row.tool_seconds,
        executor_id=row.executor_id,
        reused_from=row.reused_from,
    )


@dataclass(frozen=True, slots=True)
class StepRunState:
    """What the engine's hot path needs of one attempt: no timestamps but the end, and the
    output only where the scheduler reads it (failed and pending attempts, or every attempt
    when asked). Listing these is several times cheaper than listing `StepRun`s."""

    id: str
    step_id: str
    attempt: int
    status: StepRunStatus
    agent_id: str | None
    finished_at: float | None
    error: str | None
    output: Any
    input_tokens: int
    output_tokens: int
    cost_usd: float
    model_calls: int
    tool_calls: int
    tool_seconds: float


@dataclass(frozen=True)
class UnsettledRun:
    key: tuple[str, str, int]
    status: StepRunStatus
    since: float
    """When it started running, or was queued if it has not."""


class _Movable(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> StepRunStatus: ...


_STATUSES = {s.value: s for s in StepRunStatus}


# The engine's hot statements, built once: building one of these costs more than running it.


def _states(outputs: bool) -> Any:
    c = step_runs.c
    output = (
        c.output if outputs else case((c.status != StepRunStatus.COMPLETED, c.output), else_=None)
    )
    return (
        select(
            c.id,
            c.step_id,
            c.attempt,
            c.status,
            c.agent_id,
            c.finished_at,
            c.error,
            type_coerce(output, c.output.type).label("output"),
            c.input_tokens,
            c.output_tokens,
            c.cost_usd,
            c.model_calls,
            c.tool_calls,
            c.tool_seconds,
        )
        .where(c.execution_id == bindparam("execution_id"))
        .order_by(c.created_at, c.step_id, c.attempt)
    )


_STATES = _states(outputs=False)
_STATES_WITH_OUTPUTS = _states(outputs=True)
_GET = select(step_runs).where(
    step_runs.c.execution_id == bindparam("execution_id"),
    step_runs.c.step_id == bindparam("step_id"),
    step_runs.c.attempt == bindparam("attempt"),
)
_CREATE = insert(step_runs).returning(step_runs)
_MOVE = update(step_runs).where(step_runs.c.id == bindparam("run_id")).returning(step_runs)
"""The columns to set come with the parameters."""
_OUTPUTS = select(step_runs.c.step_id, step_runs.c.output).where(
    step_runs.c.execution_id == bindparam("execution_id"),
    step_runs.c.step_id.in_(bindparam("step_ids", expanding=True)),
    step_runs.c.status == StepRunStatus.COMPLETED,
)
_IN_FLIGHT = select(step_runs.c.step_id, step_runs.c.status, step_runs.c.agent_id).where(
    step_runs.c.execution_id == bindparam("execution_id"),
    step_runs.c.status.in_([StepRunStatus.PENDING, StepRunStatus.RUNNING]),
)


class StepRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        execution_id: str,
        step_id: str,
        attempt: int,
        status: StepRunStatus = StepRunStatus.PENDING,
        feedback: str | None = None,
        output: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> StepRun:
        now = time.time()
        row = self.session.execute(
            _CREATE,
            {
                "id": new_id(),
                "execution_id": execution_id,
                "step_id": step_id,
                "attempt": attempt,
                "status": status,
                "feedback": feedback,
                "output": output,
                "error": error,
                "created_at": now,
                "finished_at": now
                if status in (StepRunStatus.SKIPPED, StepRunStatus.CANCELLED)
                else None,
            },
        ).one()
        return _step_run(row)

    def carry_over(self, source: StepRun, *, execution_id: str) -> StepRun:
        """A completed attempt of another execution, recorded as this execution's first
        attempt at the step (a retry keeps it instead of running the step again): same agent,
        times, result and output mode; no tokens, cost or calls, which stay where they were
        spent (kept over several retries, it names the execution that ran it). Inserted
        completed, as a skipped step is: it never runs here."""
        row = self.session.execute(
            _CREATE,
            {
                "id": new_id(),
                "execution_id": execution_id,
                "step_id": source.step_id,
                "attempt": 1,
                "status": StepRunStatus.COMPLETED,
                "agent_id": source.agent_id,
                "started_at": source.started_at.timestamp() if source.started_at else None,
                "finished_at": source.finished_at.timestamp() if source.finished_at else None,
                "output": source.output,
                "output_mode": source.output_mode,
                "reused_from": source.reused_from or source.execution_id,
                "created_at": time.time(),
            },
        ).one()
        return _step_run(row)

    def get(self, execution_id: str, step_id: str, attempt: int) -> StepRun:
        row = self.session.execute(
            _GET, {"execution_id": execution_id, "step_id": step_id, "attempt": attempt}
        ).one_or_none()
        if row is None:
            raise NotFound("step run", f"{execution_id}:{step_id}:{attempt}")
        return _step_run(row)

    def list(self, execution_id: str, *, outputs: bool = True) -> builtins.list[StepRun]:
        """Every attempt of the execution. Without `outputs`, completed attempts come back
        without their output (the engine's hot path; the results are read when needed)."""
        columns = [c for c in step_runs.c if c.name != "output"]
        output = (
            step_runs.c.output
            if outputs
            else case(
                (step_runs.c.status != StepRunStatus.COMPLETED, step_runs.c.output), else_=None
            ).label("output")
        )
        rows = self.session.execute(
            select(*columns, type_coerce(output, step_runs.c.output.type).label("output"))
            .where(step_runs.c.execution_id == execution_id)
            .order_by(step_runs.c.created_at, step_runs.c.step_id, step_runs.c.attempt)
        )
        return [_step_run(r) for r in rows]

    def states(self, execution_id: str, *, outputs: bool = False) -> builtins.list[StepRunState]:
        """Every attempt of the execution, light (see `StepRunState`), in creation order."""
        rows = self.session.execute(
            _STATES_WITH_OUTPUTS if outputs else _STATES, {"execution_id": execution_id}
        )
        return [
            StepRunState(
                r[0],
                r[1],
                r[2],
                _STATUSES[r[3]],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8] or 0,
                r[9] or 0,
                r[10] or 0.0,
                r[11] or 0,
                r[12] or 0,
                r[13] or 0.0,
            )
            for r in rows
        ]

    def in_flight(self, execution_id: str) -> builtins.list[tuple[str, StepRunStatus, str | None]]:
        """(step, status, agent) of the attempts pending or running: few, whatever the
        execution's length (a pending or running attempt is always its step's latest)."""
        rows = self.session.execute(_IN_FLIGHT, {"execution_id": execution_id})
        return [(r[0], _STATUSES[r[1]], r[2]) for r in rows]

    def cancelled(
        self, keys: Collection[tuple[str, str, int]]
    ) -> builtins.list[tuple[str, str, int]]:
        """Of these attempts (execution, step, attempt), the ones cancelled (their execution
        ended)."""
        wanted = set(keys)
        if not wanted:
            return []
        rows = self.session.execute(
            select(step_runs.c.execution_id, step_runs.c.step_id, step_runs.c.attempt).where(
                step_runs.c.execution_id.in_({k[0] for k in wanted}),
                step_runs.c.status == StepRunStatus.CANCELLED.value,
            )
        )
        return [key for r in rows if (key := (r[0], r[1], r[2])) in wanted]

    def outputs(self, execution_id: str, step_ids: Collection[str]) -> dict[str, Any]:
        """The results of the given steps' completed attempts."""
        if not step_ids:
            return {}
        rows = self.session.execute(
            _OUTPUTS, {"execution_id": execution_id, "step_ids": list(step_ids)}
        )
        return {r.step_id: r.output for r in rows}

    def unsettled(self, *, limit: int = 1000) -> builtins.list["UnsettledRun"]:
        """Attempts pending or running in executions that have not ended, oldest first: the
        reconciler's rounds compare them with DBOS's record (read from the executions, by
        status, then each one's attempts by its key)."""
        c, e = step_runs.c, workflow_executions.c
        rows = self.session.execute(
            select(c.execution_id, c.step_id, c.attempt, c.status, c.created_at, c.started_at)
            .join(workflow_executions, e.id == c.execution_id)
            .where(
                e.status.in_(["running", "paused"]),
                c.status.in_([StepRunStatus.PENDING, StepRunStatus.RUNNING]),
            )
            .order_by(c.created_at)
            .limit(limit)
        )
        return [
            UnsettledRun((r[0], r[1], r[2]), _STATUSES[r[3]], r[5] or r[4] or 0.0) for r in rows
        ]

    def completed_recent(
        self,
        execution_id: str,
        *,
        limit: int,
        agent_id: str | None = None,
        besides: str | None = None,
    ) -> builtins.list[StepRun]:
        """The execution's completed attempts (one a step: a completed attempt is its step's
        latest), the last finished first, at most `limit`; only `agent_id`'s when given, never
        step `besides`'s. A bounded read, however long the execution has run."""
        c = step_runs.c
        query = select(step_runs).where(
            c.execution_id == execution_id, c.status == StepRunStatus.COMPLETED
        )
        if agent_id is not None:
            query = query.where(c.agent_id == agent_id)
        if besides is not None:
            query = query.where(c.step_id != besides)
        rows = self.session.execute(
            query.order_by(c.finished_at.desc(), c.created_at.desc(), c.step_id).limit(limit)
        )
        return [_step_run(r) for r in rows]

    def completed_by_agent(
        self, execution_id: str, *, besides: str | None = None
    ) -> dict[str | None, int]:
        """How many steps of the execution each agent completed (besides step `besides`),
        counted by the database."""
        c = step_runs.c
        query = select(c.agent_id, func.count()).where(
            c.execution_id == execution_id, c.status == StepRunStatus.COMPLETED
        )
        if besides is not None:
            query = query.where(c.step_id != besides)
        return {r[0]: r[1] for r in self.session.execute(query.group_by(c.agent_id))}

    def running_by_executor(self) -> dict[str, int]:
        """How many attempts each process is running now, by executor ID."""
        rows = self.session.execute(
            select(step_runs.c.executor_id, func.count())
            .where(step_runs.c.status == StepRunStatus.RUNNING)
            .group_by(step_runs.c.executor_id)
        )
        return {r[0]: r[1] for r in rows if r[0] is not None}

    def start(self, run: _Movable, *, agent_id: str | None, executor_id: str | None) -> StepRun:
        return self._move(
            run,
            StepRunStatus.RUNNING,
            agent_id=agent_id,
            executor_id=executor_id,
            started_at=time.time(),
        )

    def take_over(self, run: StepRun, *, executor_id: str) -> None:
        """A running attempt now runs in another process (its first one died): only the new
        owner may record its outcome."""
        self.session.execute(
            update(step_runs).where(step_runs.c.id == run.id).values(executor_id=executor_id)
        )

    def finish(
        self,
        run: _Movable,
        status: StepRunStatus,
        *,
        output: dict[str, Any] | None = None,
        error: str | None = None,
        usage: Usage | None = None,
        output_mode: str | None = None,
        validation_retries: int = 0,
        tool_calls: int = 0,
    ) -> StepRun:
        usage = usage or Usage()
        return self._move(
            run,
            status,
            output=output,
            error=error,
            finished_at=time.time(),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            model_calls=usage.model_calls,
            output_mode=output_mode,
            validation_retries=validation_retries,
            tool_calls=tool_calls,
            tool_seconds=usage.tool_seconds,
        )

    def _move(self, run: _Movable, status: StepRunStatus, **values: Any) -> StepRun:
        check_transition("step run", run.id, run.status, status)
        row = self.session.execute(_MOVE, {"run_id": run.id, "status": status, **values}).one()
        return _step_run(row)
