"""Child executions: the sub-workflows and delegated sub-tasks an attempt starts and waits
for. The team sees them as `ctx.children` (`accord.domain.ports.ChildExecutions`); what they
need from the engine of the parent's process is a `ChildHost`."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from dbos import DBOS
from sqlalchemy.orm import Session

from accord.domain.enums import WorkflowType
from accord.domain.errors import AccordError
from accord.domain.execution import WorkflowExecution
from accord.domain.ports import AttemptContext, AttemptOutcome, ChildResult
from accord.domain.step_result import StepResult
from accord.domain.workflow import WorkflowConfiguration, WorkflowStep
from accord.engine import transactions
from accord.engine.attempt_keys import AttemptKey, attempt_key, attempt_workflow_id
from accord.engine.dispatch import Dispatcher
from accord.engine.durable_calls import AttemptSuspended, is_database_fault
from accord.engine.runner import ExecutionRunner
from accord.engine.transaction_results import AdvanceResult
from accord.storage.db import Database
from accord.storage.repositories.executions import ExecutionRepository


@dataclass(frozen=True)
class ChildHost:
    """What child executions need from the engine of their parent's process."""

    db: Database
    runner: ExecutionRunner
    dispatcher: Dispatcher
    """Adopts a child while its parent waits: the child's attempts run in this process."""
    after: Callable[[str, AdvanceResult], None]
    """The engine's follow-up to a commit (see `Engine._after`)."""
    wait_ended: Callable[[str], Awaitable[WorkflowExecution]]


class AttemptChildren:
    """`ctx.children`: child executions started from one attempt, one at a time, bounded by
    `constraints.maxDepth` and `maxFanOut`; the attempt waits for each child's result."""

    def __init__(self, host: ChildHost, key: AttemptKey, depth: int, plan: Any) -> None:
        self.host = host
        self.key = key
        self.depth = depth
        self.constraints = plan.configuration.constraints
        self.started = 0

    async def run_workflow(self, workflow_id: str, *, inputs: Mapping[str, Any]) -> ChildResult:
        return await self._run(workflow_id, dict(inputs), None)

    async def delegate(
        self,
        *,
        agent_id: str,
        title: str,
        instructions: str,
        expected_output: str,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        task = {
            "agentId": agent_id,
            "title": title,
            "instructions": instructions,
            "expectedOutput": expected_output,
        }
        return await self._run(None, {"delegatedTask": task}, task, on_started)

    async def _run(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        self.started += 1
        n = self.started
        if self.depth + 1 > self.constraints.max_depth:
            return ChildResult(
                "",
                "failed",
                None,
                f"child executions may nest "
                f"{self.constraints.max_depth} deep (constraints.maxDepth); "
                f"this one would be at depth {self.depth + 1}",
            )
        if n > self.constraints.max_fan_out:
            return ChildResult(
                "",
                "failed",
                None,
                f"a step may start at most "
                f"{self.constraints.max_fan_out} child executions "
                "(constraints.maxFanOut)",
            )
        child_key = f"{attempt_workflow_id(self.key)}:{n}"
        started = await DBOS.run_step_async(
            {"name": f"child-start-{n}"}, self._start_sync, workflow_id, inputs, task, child_key
        )
        if started.get("error"):
            return ChildResult("", "failed", None, started["error"])
        child_id = started["executionId"]
        if on_started is not None:
            await on_started(child_id)
        self.host.dispatcher.adopted.add(child_id)  # its attempts run in this process
        try:
            self.host.after(child_id, advance_result_of(started))
            ended = await self.host.wait_ended(child_id)
        finally:
            self.host.dispatcher.adopted.discard(child_id)
        return ChildResult(
            child_id,
            ended.status.value,  # type: ignore[arg-type]
            ended.final_output,
            ended.error_message,
            ended.deliverable.markdown if ended.deliverable else None,
        )

    def _start_sync(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        child_key: str,
    ) -> dict[str, Any]:
        try:
            return self.host.db.transaction(
                partial(self._start_in, workflow_id, inputs, task, child_key),
                what="starting a child execution",
            )
        except Exception as exc:
            if is_database_fault(exc):  # not recorded as the step's outcome: see `RecordedCalls`
                raise AttemptSuspended(f"child start {child_key} met a database fault") from exc
            raise

    def _start_in(
        self,
        workflow_id: str | None,
        inputs: dict[str, Any],
        task: dict[str, Any] | None,
        child_key: str,
        s: Session,
    ) -> dict[str, Any]:
        runner = self.host.runner
        repo = ExecutionRepository(s)
        parent = repo.get(self.key[0])
        user_id = runner.owner(s, parent)
        try:
            if workflow_id is None:
                workflow = delegated_workflow(
                    repo.workflow(parent.workflow_id, user_id=user_id),
                    parent.definition,
                    task or {},
                )
            else:
                workflow = repo.workflow(workflow_id, user_id=user_id)
            child, result = runner.start_child(
                s,
                parent=parent,
                parent_step_id=self.key[1],
                parent_attempt=self.key[2],
                child_key=child_key,
                workflow=workflow,
                inputs=inputs,
            )
        except AccordError as exc:
            return {"error": exc.message}
        return {
            "executionId": child.id,
            "dispatch": result.dispatch,
            "finished": result.finished,
            "cancel": [],
        }


def delegated_workflow(
    parent_workflow: Any, definition: dict[str, Any], task: dict[str, Any]
) -> Any:
    """A one-step workflow for a delegated sub-task, run by the delegate, with the parent's
    participants and limits."""
    configuration = WorkflowConfiguration.model_validate(definition["configuration"])
    step = WorkflowStep(
        id="delegated_task",
        name=task.get("title") or "Delegated task",
        instructions=task.get("instructions", ""),
        expected_output=task.get("expectedOutput", ""),
        preferred_agent_id=task.get("agentId"),
    )
    configuration = configuration.model_copy(update={"steps": [step]})
    return replace(
        parent_workflow,
        workflow_type=WorkflowType.PIPELINE,
        configuration=configuration,
        participating_agents=list(definition["participatingAgents"]),
        coordinator_agent_id=definition.get("coordinatorAgentId"),
    )


async def end_children(
    host: ChildHost,
    execution_id: str,
    *,
    started_by: str | None = None,
    reason: str = "its parent execution ended",
) -> None:
    """Cancel the unfinished children of an execution that has ended (or only those an
    attempt of it that failed had started), each in a transaction of its own (see
    `ExecutionEnds.end_orphan`); their own children follow through `Engine._after`. A crash
    before this runs is caught up, for an ended execution, when a child next advances (on
    recovery at the latest)."""
    try:
        children = await asyncio.to_thread(_unfinished_children, host.db, execution_id, started_by)
        for child_id in children:
            result = await transactions.write(
                host.db, partial(host.runner.end_orphan, execution_id=child_id, reason=reason)
            )
            host.after(child_id, result)
    except Exception:  # the children end when they next advance
        logging.getLogger(__name__).warning(
            "could not cancel the children of %s", execution_id, exc_info=True
        )


def _unfinished_children(db: Database, execution_id: str, started_by: str | None) -> list[str]:
    return db.transaction(
        partial(_unfinished_children_of, execution_id=execution_id, started_by=started_by),
        what="reading child executions",
        read=True,
    )


def _unfinished_children_of(
    session: Session, *, execution_id: str, started_by: str | None
) -> list[str]:
    return ExecutionRepository(session).unfinished_children(execution_id, started_by=started_by)


async def run_sub_workflow(ctx: AttemptContext, workflow_id: str) -> AttemptOutcome:
    child = await ctx.children.run_workflow(
        workflow_id, inputs={"parentInputs": ctx.dependency_results}
    )
    if child.status != "completed":
        return AttemptOutcome(
            status="failed",
            error=f"sub-workflow {workflow_id!r} {child.status}: {child.error or 'no error given'}",
        )
    summary = _sub_workflow_summary(child.final_output) or (
        f"Sub-workflow {workflow_id} completed (execution {child.execution_id})."
    )
    return AttemptOutcome(
        status="completed",
        result=StepResult(
            summary=summary,
            output=child.deliverable or json.dumps(child.final_output, indent=2),
            data={"childExecutionId": child.execution_id, "finalOutput": child.final_output},
        ).to_json_dict(),
    )


def _sub_workflow_summary(final_output: Any) -> str:
    """What a sub-workflow concluded, for the step that ran it: its final steps' summaries
    (the steps after it read this line first; its ID alone told them nothing)."""
    if not isinstance(final_output, Mapping):
        return ""
    summaries = [
        str(result["summary"])
        for result in final_output.values()
        if isinstance(result, Mapping) and result.get("summary")
    ]
    return "; ".join(summaries)[:2000]


def advance_result_of(raw: dict[str, Any]) -> AdvanceResult:
    return AdvanceResult(
        [attempt_key(k) for k in raw["dispatch"]],
        raw["finished"],
        [attempt_key(k) for k in raw["cancel"]],
    )
