"""Starts nobody clicks: schedule ticks, hook deliveries and the ends of upstream runs.

Every such start runs as a DBOS workflow with an ID made from what fired it, and the
execution it makes carries the same key (`workflow_executions.trigger_key`, unique). So a
tick that two processes both fire, a delivery that arrives twice or an upstream end handled
again after a crash start one execution, and a start cut off by a crash after its commit
finds the execution it made instead of making another.

Schedules live in our table (`workflow_schedules`, what users edit from any process, even
with no engine running) and run as DBOS schedules: each engine reconciles DBOS's schedules
with the table every few seconds, and DBOS fires each tick once across all processes (its
workflow ID is the schedule's name and the tick's time).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from dbos import DBOS, SetWorkflowID

from accord.domain.enums import ExecutionStatus, TriggerReason
from accord.domain.execution import WorkflowExecution
from accord.domain.triggers import CatchUp, DependencyOutcome, Overlap, Schedule
from accord.storage.db import Database
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.triggers import TriggerRepository

log = logging.getLogger(__name__)

SCHEDULE_PREFIX = "accord-schedule-"
RECONCILE_SECONDS = 5.0
BUSY_POLL_SECONDS = 2.0
"""How often a start that queues behind a running execution looks again."""
DEPENDENCY_LOOKBACK = timedelta(days=1)
"""At start, upstream runs that ended this recently are checked for dependents not started."""

_start: Callable[[dict[str, Any]], Any] | None = None
"""The running engine's `start_triggered` (set by `Triggers.start`)."""


def schedule_name(schedule_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{schedule_id}"


async def _start_when_free(start: dict[str, Any]) -> str | None:
    """Inside a DBOS workflow: start the execution (a recorded step); if the workflow is busy
    with another run, wait and try again when `start["queue"]`, else give up (None)."""
    while True:

        async def attempt() -> dict[str, Any]:
            assert _start is not None, "no Accord engine is running in this process"
            return dict(await _start(start))

        outcome = await DBOS.run_step_async({"name": "start_execution"}, attempt)
        if outcome.get("executionId") or not outcome.get("busy") or not start.get("queue"):
            return outcome.get("executionId")
        await DBOS.sleep_async(BUSY_POLL_SECONDS)


@DBOS.workflow(name="accord_triggered_start")
async def _triggered_start(start: dict[str, Any]) -> str | None:
    return await _start_when_free(start)


@DBOS.workflow(name="accord_schedule_tick")
async def _schedule_tick(scheduled_at: Any, context: Any) -> None:
    schedule_id = str(context["scheduleId"])

    async def read() -> dict[str, Any] | None:
        assert _triggers is not None
        return await asyncio.to_thread(_triggers.tick_start, schedule_id, str(scheduled_at))

    start = await DBOS.run_step_async({"name": "read_schedule"}, read)
    if start is None:
        return
    # Queued ticks start in their order: each waits for the tick before it to have started.
    previous = start.pop("after", None)
    if previous:
        await DBOS.run_step_async({"name": "wait_for_previous_tick"}, partial(_ended, previous))
    await _start_when_free(start)


async def _ended(workflow_id: str) -> bool:
    """Once the DBOS workflow `workflow_id` has ended (at once if there is none). Called in
    a step, where DBOS's status reads are plain reads, not recorded steps of their own."""
    while True:
        status = await asyncio.to_thread(DBOS.get_workflow_status, workflow_id)
        if status is None or status.status not in _WAITING:
            return True
        await asyncio.sleep(BUSY_POLL_SECONDS / 4)


_WAITING = frozenset({"PENDING", "ENQUEUED", "DELAYED"})


_triggers: "Triggers | None" = None


class Triggers:
    """One engine's share of the triggers: keeps DBOS's schedules in step with the table,
    catches up missed ticks, and starts dependents when a run ends."""

    def __init__(self, db: Database, start: Callable[[dict[str, Any]], Any]) -> None:
        self.db = db
        self._start_fn = start
        self._loop_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        global _start, _triggers
        _start, _triggers = self._start_fn, self
        await self.reconcile()
        await self._catch_up()
        await self._recover_dependents()
        self._loop_task = asyncio.create_task(self._reconcile_loop())

    async def stop(self) -> None:
        global _start, _triggers
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        _start = _triggers = None

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_SECONDS)
            try:
                await self.reconcile()
            except Exception:  # a database blip: the next round tries again
                log.warning("reconciling schedules failed", exc_info=True)

    # --- schedules ------------------------------------------------------------------------

    def _schedules(self) -> list[Schedule]:
        with self.db.read_session() as s:
            return TriggerRepository(s).schedules()

    async def reconcile(self) -> None:
        """Make DBOS's schedules match the table: create new ones, drop removed ones, follow
        pauses. Several processes may do this at once; the loser of a race finds the work
        done at its next round."""
        wanted = {schedule_name(s.id): s for s in await asyncio.to_thread(self._schedules)}
        existing = {
            s["schedule_name"]: s
            for s in await asyncio.to_thread(DBOS.list_schedules)
            if s["schedule_name"].startswith(SCHEDULE_PREFIX)
        }
        for name in existing.keys() - wanted.keys():
            await asyncio.to_thread(DBOS.delete_schedule, name)
        for name, schedule in wanted.items():
            current = existing.get(name)
            if current is None or current["schedule"] != schedule.dbos_cron():
                try:
                    if current is not None:
                        await asyncio.to_thread(DBOS.delete_schedule, name)
                    await asyncio.to_thread(self._create_schedule, name, schedule)
                except Exception:  # another process made it first
                    log.debug("schedule %s: created elsewhere", name, exc_info=True)
                current = await asyncio.to_thread(DBOS.get_schedule, name)
                if current is None:
                    continue
            active = current.get("status", "ACTIVE") == "ACTIVE"
            if schedule.paused and active:
                await asyncio.to_thread(DBOS.pause_schedule, name)
            elif not schedule.paused and not active:
                await asyncio.to_thread(DBOS.resume_schedule, name)

    @staticmethod
    def _create_schedule(name: str, schedule: Schedule) -> None:
        DBOS.create_schedule(
            schedule_name=name,
            workflow_fn=_schedule_tick,
            schedule=schedule.dbos_cron(),
            context={"scheduleId": schedule.id},
            cron_timezone=schedule.timezone,
        )

    async def _catch_up(self) -> None:
        """Schedules whose policy is `once` run the latest tick missed while no process ran
        (fired under that tick's own ID, so every process doing this starts it once)."""
        now = datetime.now(UTC)
        for schedule in await asyncio.to_thread(self._schedules):
            if schedule.paused or schedule.catch_up is not CatchUp.ONCE:
                continue
            missed = schedule.previous_time(now)
            if missed <= schedule.created_at:
                continue
            state = await asyncio.to_thread(DBOS.get_schedule, schedule_name(schedule.id))
            last = state and state.get("last_fired_at")
            if last and datetime.fromisoformat(last) >= missed:
                continue
            await asyncio.to_thread(
                DBOS.backfill_schedule,
                schedule_name(schedule.id),
                missed - timedelta(seconds=1),
                missed + timedelta(milliseconds=1),
            )

    def tick_start(self, schedule_id: str, scheduled_at: str) -> dict[str, Any] | None:
        """The start one tick makes, or None for a schedule since removed or paused."""
        with self.db.read_session() as s:
            repo = TriggerRepository(s)
            owner = repo.schedule_owner(schedule_id)
            if owner is None:
                return None
            schedule = repo.schedule(schedule_id)
        if schedule.paused:
            return None
        previous = schedule.previous_time(datetime.fromisoformat(scheduled_at))
        return {
            "after": f"sched-{schedule_name(schedule_id)}-{previous.isoformat()}"
            if schedule.overlap is Overlap.QUEUE
            else None,
            "key": f"schedule:{schedule_id}:{scheduled_at}",
            "workflowId": schedule.workflow_id,
            "userId": owner[1],
            "reason": TriggerReason.SCHEDULED.value,
            "triggeredBy": f"schedule:{schedule_id}",
            "inputs": {**schedule.inputs, "scheduledAt": scheduled_at},
            "queue": schedule.overlap is Overlap.QUEUE,
        }

    # --- dependencies ---------------------------------------------------------------------

    async def execution_ended(self, execution_id: str) -> None:
        """Start the workflows that run after this execution's workflow, as its outcome says."""
        starts = await asyncio.to_thread(self._dependent_starts, execution_id)
        for start in starts:
            with SetWorkflowID(f"trigger:{start['key']}"):
                await DBOS.start_workflow_async(_triggered_start, start)

    def _dependent_starts(self, execution_id: str) -> list[dict[str, Any]]:
        with self.db.read_session() as s:
            execution = ExecutionRepository(s).get(execution_id)
            if execution.depth > 0:
                return []
            dependents = TriggerRepository(s).dependents(execution.workflow_id)
        return [
            _dependent_start(execution, d.workflow_id, d.user_id)
            for d in dependents
            if _outcome_matches(d.on, execution.status)
        ]

    async def _recover_dependents(self) -> None:
        """Dependents of runs that ended while a crash cut off their start (their DBOS
        workflow IDs make starting them again harmless)."""

        def ended() -> list[str]:
            since = time.time() - DEPENDENCY_LOOKBACK.total_seconds()
            with self.db.read_session() as s:
                if not TriggerRepository(s).has_dependencies():
                    return []
                return [e.id for e in ExecutionRepository(s).ended_since(since)]

        for execution_id in await asyncio.to_thread(ended):
            await self.execution_ended(execution_id)


def _outcome_matches(on: DependencyOutcome, status: ExecutionStatus) -> bool:
    if on is DependencyOutcome.ANY:
        return status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    return status.value == on.value


def _dependent_start(upstream: WorkflowExecution, workflow_id: str, user_id: str) -> dict[str, Any]:
    return {
        "key": f"dependency:{upstream.id}:{workflow_id}",
        "workflowId": workflow_id,
        "userId": user_id,
        "reason": TriggerReason.DEPENDENCY.value,
        "triggeredBy": upstream.id,
        "inputs": {
            "upstream": {
                "executionId": upstream.id,
                "workflowId": upstream.workflow_id,
                "status": upstream.status.value,
                "output": upstream.final_output,
            }
        },
        "queue": True,
    }
