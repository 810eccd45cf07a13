"""The user's workflows as MCP tools: any MCP client (Claude Desktop, an IDE, another agent
framework) can hand work to an Accord team.

One `MCPServer` (the official SDK's, formerly FastMCP) serves both transports: `accord mcp`
speaks it over stdio as the local user, and `accord serve` mounts it at `/mcp` (streamable
HTTP), where each request acts as the user its bearer token belongs to (`who` tells the tools
which user that is). The tools only read our tables and call the engine, so the answers are
the ones the API gives: a client starts a workflow, follows it (steps, recent events), and
gets its result.
"""

import asyncio
import difflib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from accord.domain.agent import same_name
from accord.domain.enums import ApprovalStatus, TriggerReason
from accord.domain.errors import AccordError
from accord.domain.execution import ExecutionEvent, StepRun, WorkflowExecution
from accord.domain.transitions import TERMINAL_EXECUTION
from accord.domain.workflow import CollaborationWorkflow
from accord.engine.service import Engine
from accord.server.deps import EngineNotRunning
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.approvals import ApprovalRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.tools.workspace_folder import list_files, locate_workspace

MAX_WAIT_S = 600.0
"""The longest a tool call waits for an execution to end; a client follows longer runs with
`get_execution` / `get_result` (many MCP clients give up on a call after a few minutes)."""
TEXT_LIMIT = 400
"""Longer strings in event data are cut, so that following a run stays cheap for a model."""

T = TypeVar("T")

UserOf = Callable[[Context], str]
"""The user a tool call acts as (the local user on stdio; the token's user over HTTP)."""

INSTRUCTIONS = (
    "Accord runs teams of LLM agents through workflows. Call list_workflows to see the "
    "user's workflows, start_workflow to run one (pass wait_seconds to wait for the end), "
    "get_execution to follow a run (step statuses and recent events), get_result for its "
    "final output, and list_files / read_file for the files the team wrote."
)


class AccordTools:
    """What each tool does, as plain methods over the database and the engine."""

    def __init__(self, db: Database, engine: Engine | None) -> None:
        self.db = db
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine that starts and follows executions (a server started without one, in
        tests of the API alone, answers as the API does)."""
        if self._engine is None:
            raise EngineNotRunning()
        return self._engine

    async def list_workflows(self, user_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.db.read_session() as s:
                names = _agent_names(s, user_id)
                return [
                    _workflow_summary(w, names) for w in WorkflowRepository(s).list(user_id=user_id)
                ]

        return await asyncio.to_thread(read)

    async def start_workflow(
        self, user_id: str, workflow: str, inputs: dict[str, Any], wait_seconds: float
    ) -> dict[str, Any]:
        def find() -> CollaborationWorkflow:
            with self.db.read_session() as s:
                return find_workflow(WorkflowRepository(s).list(user_id=user_id), workflow)

        found = await asyncio.to_thread(find)
        execution = await self.engine.start_execution(
            found.id, user_id, TriggerReason.MANUAL, inputs=inputs
        )
        return await self.result(user_id, execution.id, wait_seconds)

    async def get_execution(self, user_id: str, execution_id: str, events: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with self.db.read_session() as s:
                execution = ExecutionRepository(s).get(execution_id, user_id=user_id)
                runs = StepRunRepository(s).list(execution.id)
                recent = EventRepository(s).latest(
                    user_id=user_id, execution_id=execution.id, limit=events
                )
                names = _agent_names(s, user_id)
                waiting = ApprovalRepository(s).list(
                    user_id=user_id, execution_id=execution.id, status=ApprovalStatus.PENDING
                )
            return _execution_summary(execution) | {
                "steps": _steps(execution, runs, names),
                "recentEvents": [_event(e, names) for e in recent],
                "pendingApprovals": [
                    {
                        "approvalId": a.id,
                        "stepId": a.step_id,
                        "agent": a.agent_name,
                        "call": f"{a.server}.{a.tool}",
                        "arguments": _shortened(a.arguments),
                    }
                    for a in waiting
                ],
            }

        return await asyncio.to_thread(read)

    async def result(self, user_id: str, execution_id: str, wait_seconds: float) -> dict[str, Any]:
        execution = await self.engine.get(execution_id, user_id)
        wait = max(0.0, min(wait_seconds, MAX_WAIT_S))
        if execution.status not in TERMINAL_EXECUTION and wait > 0:
            try:
                execution = await self.engine.wait(execution_id, timeout=wait)
            except TimeoutError:
                execution = await self.engine.get(execution_id, user_id)
        summary = _execution_summary(execution)
        if execution.status not in TERMINAL_EXECUTION:
            return summary | {
                "finished": False,
                "next": "still running: call get_result again (with wait_seconds), or "
                "get_execution to see its progress",
            }
        data = execution.to_json_dict()
        return summary | {
            "finished": True,
            "finalOutput": execution.final_output,
            "deliverable": data.get("deliverable"),
        }

    async def list_files(self, user_id: str, execution_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.db.read_session() as s:
                ExecutionRepository(s).get(execution_id, user_id=user_id)
                return [f.to_json_dict() for f in list_files(s, execution_id)]

        return await asyncio.to_thread(read)

    async def read_file(
        self, user_id: str, execution_id: str, path: str, max_chars: int
    ) -> dict[str, Any]:
        def read() -> bytes:
            with self.db.read_session() as s:
                ExecutionRepository(s).get(execution_id, user_id=user_id)
                return locate_workspace(s, execution_id).read_bytes(path)

        data = await asyncio.to_thread(read)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return {
                "path": path,
                "size": len(data),
                "text": None,
                "note": "a binary file: download it from the API "
                f"(GET /api/v1/executions/{execution_id}/files/{path})",
            }
        return {
            "path": path,
            "size": len(data),
            "text": text[:max_chars],
            "truncated": len(text) > max_chars,
        }

    async def cancel(self, user_id: str, execution_id: str) -> dict[str, Any]:
        execution = await self.engine.cancel(
            execution_id, user_id, reason="cancelled by the user through MCP"
        )
        return _execution_summary(execution)


def build_mcp_server(tools: AccordTools, who: UserOf) -> MCPServer:
    """The MCP server offering `tools` to the user `who` names for each call."""
    server: MCPServer = MCPServer(
        "accord", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING"
    )

    async def guarded(call: Awaitable[T]) -> T:
        """Accord's own errors (not found, illegal transition, an invalid workflow) go back
        as tool errors with their message, for the client's model to act on."""
        try:
            return await call
        except AccordError as exc:
            raise ToolError(exc.message) from exc

    @server.tool(
        description="The user's workflows: ID, name, type, steps and agents. Start one with "
        "start_workflow."
    )
    async def list_workflows(ctx: Context) -> list[dict[str, Any]]:
        return await guarded(tools.list_workflows(who(ctx)))

    @server.tool(
        description="Start a workflow (by ID or name) with optional inputs for its team. "
        "Returns the execution's ID and status at once, or its result when it ends within "
        "wait_seconds."
    )
    async def start_workflow(
        ctx: Context,
        workflow: Annotated[str, Field(description="The workflow's ID or name.")],
        inputs: Annotated[
            dict[str, Any] | None,
            Field(description="Inputs the team sees in its execution context."),
        ] = None,
        wait_seconds: Annotated[
            float,
            Field(ge=0, le=MAX_WAIT_S, description="How long to wait for the run to end."),
        ] = 0,
    ) -> dict[str, Any]:
        return await guarded(tools.start_workflow(who(ctx), workflow, inputs or {}, wait_seconds))

    @server.tool(
        description="Follow an execution: its status, each step's latest attempt (agent, "
        "status, summary or error), its most recent events, and the tool calls waiting for "
        "the user's approval (decided in Accord: browser, `accord approvals`, API)."
    )
    async def get_execution(
        ctx: Context,
        execution_id: Annotated[str, Field(description="The ID start_workflow returned.")],
        events: Annotated[
            int, Field(ge=0, le=200, description="How many recent events to include.")
        ] = 20,
    ) -> dict[str, Any]:
        return await guarded(tools.get_execution(who(ctx), execution_id, events))

    @server.tool(
        description="The result of an execution once it has ended: its final output (the "
        "last steps' results) and error if any. Waits up to wait_seconds for the end."
    )
    async def get_result(
        ctx: Context,
        execution_id: Annotated[str, Field(description="The ID start_workflow returned.")],
        wait_seconds: Annotated[
            float,
            Field(ge=0, le=MAX_WAIT_S, description="How long to wait for the run to end."),
        ] = 0,
    ) -> dict[str, Any]:
        return await guarded(tools.result(who(ctx), execution_id, wait_seconds))

    @server.tool(
        description="The files the team wrote in an execution's workspace: path, size, and "
        "the step and agent that wrote each (null when written by an MCP server)."
    )
    async def list_files(
        ctx: Context,
        execution_id: Annotated[str, Field(description="The execution's ID.")],
    ) -> list[dict[str, Any]]:
        return await guarded(tools.list_files(who(ctx), execution_id))

    @server.tool(
        description="Read one file of an execution's workspace as text (a path list_files "
        "gave); longer files are cut at max_chars."
    )
    async def read_file(
        ctx: Context,
        execution_id: Annotated[str, Field(description="The execution's ID.")],
        path: Annotated[str, Field(description="The file's path in the workspace.")],
        max_chars: Annotated[
            int, Field(ge=1, le=1_000_000, description="The most characters returned.")
        ] = 100_000,
    ) -> dict[str, Any]:
        return await guarded(tools.read_file(who(ctx), execution_id, path, max_chars))

    @server.tool(description="Cancel a running or paused execution.")
    async def cancel_execution(
        ctx: Context,
        execution_id: Annotated[str, Field(description="The execution's ID.")],
    ) -> dict[str, Any]:
        return await guarded(tools.cancel(who(ctx), execution_id))

    return server


def find_workflow(workflows: list[CollaborationWorkflow], wanted: str) -> CollaborationWorkflow:
    """By ID, by name (ignoring case), or by a unique ID prefix; otherwise an error naming
    the closest names."""
    for match in (
        lambda w: w.id == wanted,
        lambda w: same_name(w.name, wanted),
        lambda w: w.id.startswith(wanted),
    ):
        found = [w for w in workflows if match(w)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(f"{w.id} ({w.name})" for w in found)
            raise ToolError(f"{len(found)} workflows match {wanted!r}: {ids}; pass the ID")
    names = [w.name for w in workflows]
    by_folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(wanted.casefold(), list(by_folded), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(by_folded[c]) for c in close)}? " if close else ""
    listing = ", ".join(repr(n) for n in names) or "none yet"
    raise ToolError(f"no workflow {wanted!r}; {hint}the user's workflows: {listing}")


def _agent_names(session: Any, user_id: str) -> dict[str, str]:
    return {a.id: a.name for a in AgentRepository(session).list(user_id=user_id)}


def _workflow_summary(workflow: CollaborationWorkflow, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "workflowType": workflow.workflow_type.value,
        "status": workflow.status.value,
        "agents": [names.get(a, a) for a in workflow.participating_agents],
        "steps": [
            {"id": s.id, "name": s.name, "description": s.description}
            for s in workflow.configuration.steps
        ],
    }


def _execution_summary(execution: WorkflowExecution) -> dict[str, Any]:
    return {
        "executionId": execution.id,
        "workflowId": execution.workflow_id,
        "executionNumber": execution.execution_number,
        "status": execution.status.value,
        "error": execution.error_message,
        "startedAt": execution.started_at.isoformat(),
        "completedAt": execution.completed_at.isoformat() if execution.completed_at else None,
        "usage": execution.usage.to_json_dict(),
    }


def _steps(
    execution: WorkflowExecution, runs: list[StepRun], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Each step of the definition with its latest attempt, in the definition's order."""
    latest: dict[str, StepRun] = {}
    for run in runs:
        if run.step_id not in latest or run.attempt > latest[run.step_id].attempt:
            latest[run.step_id] = run
    steps = []
    for step in (execution.definition.get("configuration") or {}).get("steps") or []:
        last = latest.get(step["id"])
        steps.append(
            {
                "id": step["id"],
                "name": step.get("name"),
                "status": last.status.value if last else "waiting",
                "attempt": last.attempt if last else 0,
                "agent": names.get(last.agent_id or "") if last else None,
                "summary": (last.output or {}).get("summary") if last else None,
                "error": last.error if last else None,
            }
        )
    return steps


def _event(event: ExecutionEvent, names: dict[str, str]) -> dict[str, Any]:
    data = _shortened(event.data)
    if isinstance(data, dict) and data.get("agentId") in names:
        data["agent"] = names[data["agentId"]]
    return {
        "id": event.id,
        "kind": event.kind,
        "stepId": event.step_id,
        "at": event.created_at.isoformat(),
        "data": data,
    }


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return value[:TEXT_LIMIT] + f"... ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _shortened(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v) for v in value]
    return value
