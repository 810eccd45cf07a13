"""Tool calls (issue 12): what recording a call costs, and what an MCP call over stdio costs.

Each figure is milliseconds per call, the median of five timed runs of CALLS calls after one
warm-up run:
- `echo direct`: an in-process tool called as it is;
- `echo recorded`: the same tool through `DurableToolset`, as an agent's calls go: each call a
  DBOS step in a DBOS workflow, and its `tool.called` event written to Accord's event log in a
  step of its own (the team's recording), on SQLite;
- `mcp stdio direct`: the `echo` tool of an MCP server (the SDK-built test server) over stdio,
  on one session;
- `mcp stdio recorded`: the same MCP call recorded as above.

    python bench/run.py --scenario tools [--json]
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from dbos import DBOS, SetWorkflowID
from pydantic_ai.mcp import TOOL_SCHEMA_VALIDATOR
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, ToolsetTool

from accord.domain.enums import TriggerReason
from accord.domain.events import EventKind
from accord.domain.tools import AllowList
from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration
from accord.engine.dbos_runtime import sqlite_system_engine  # the engine's DBOS settings
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.tools.durable import DurableToolset, ToolBudget, ToolCallRecord, ToolLimits
from accord.tools.sessions import ServerSession
from accord.tools.testing import counting_server

CALLS = 100
TIMED_RUNS = 5
T = TypeVar("T")


class EchoToolset(AbstractToolset[Any]):
    """One in-process tool, `echo`: the cheapest call there is."""

    @property
    def id(self) -> str | None:
        return "local"

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        definition = ToolDefinition(name="echo", parameters_json_schema={"type": "object"})
        return {
            "echo": ToolsetTool[Any](
                toolset=self,
                tool_def=definition,
                max_retries=0,
                args_validator=TOOL_SCHEMA_VALIDATOR,
            )
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        return tool_args["text"]


class DbosSteps:
    """`DurableCalls` as the engine implements it: each call one DBOS step."""

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        async def step() -> T:
            return await fn()

        return await DBOS.run_step_async({"name": name}, step)


_TOOLSETS: dict[str, DurableToolset] = {}


@DBOS.workflow(name="bench_tool_calls")
async def _recorded_calls(which: str, calls: int) -> None:
    toolset = _TOOLSETS[which]
    name = f"{toolset.name}_echo"
    # An in-process toolset's call needs its tool (a server's call needs only the name).
    tool = (await toolset.get_tools(None))[name] if which == "local" else None  # type: ignore[arg-type]
    for i in range(calls):
        await toolset.call_tool(name, {"text": f"call {i}"}, None, tool)  # type: ignore[arg-type]


def _recording(db: Database, execution_id: str, user_id: str, wrapped: Any, name: str) -> Any:
    durable = DbosSteps()

    async def sink(call: ToolCallRecord) -> None:
        def write() -> None:
            with db.session() as session:
                EventRepository(session).append(
                    execution_id=execution_id,
                    user_id=user_id,
                    kind=EventKind.TOOL_CALLED,
                    step_id="bench",
                    data={"server": call.server, "tool": call.tool, "error": call.error},
                )

        async def step() -> None:
            await asyncio.to_thread(write)

        await durable.call("tool:called", step)

    return DurableToolset(
        wrapped,
        name=name,
        allowed=AllowList((name,)),
        durable=durable,
        sink=sink,
        budget=ToolBudget(ToolLimits(max_calls=10**9)),
    )


async def _timed(run: Callable[[], Awaitable[None]]) -> float:
    walls = []
    for i in range(TIMED_RUNS + 1):
        started = time.perf_counter()
        await run()
        if i > 0:  # the first run warms up (and starts the MCP server)
            walls.append(time.perf_counter() - started)
    return statistics.median(walls) / CALLS * 1000


def _execution(db: Database) -> tuple[str, str]:
    with db.session() as s:
        user = UserRepository(s).create(email=f"{uuid.uuid4().hex}@bench.test", display_name="B")
        agent = AgentRepository(s).create(user_id=user.id, name="Bench", role="tester")
        workflow = WorkflowRepository(s).create(
            user.id,
            CreateWorkflowRequest(
                name="tools bench",
                description="",
                participating_agents=[agent.id],
                configuration=WorkflowConfiguration.model_validate(
                    {"steps": [{"id": "bench", "name": "Bench"}]}
                ),
            ),
        )
        execution = ExecutionRepository(s).create(
            workflow_id=workflow.id,
            user_id=user.id,
            trigger_reason=TriggerReason.MANUAL,
            triggered_by=user.id,
            definition={},
        )
    return execution.id, user.id


async def main(as_json: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-tools-bench-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'accord.db'}")
        db.upgrade()
        execution_id, user_id = _execution(db)
        url = f"sqlite:///{Path(tmp) / 'dbos.sqlite'}"
        DBOS(
            config={
                "name": "accord-tools-bench",
                "system_database_url": url,
                "system_database_engine": sqlite_system_engine(url),
                "log_level": "WARNING",
            }
        )
        await asyncio.to_thread(DBOS.launch)
        server = ServerSession(
            "mcp", counting_server(Path(tmp) / "calls.txt"), environ=dict(os.environ)
        )
        try:
            local = EchoToolset()
            _TOOLSETS["local"] = _recording(db, execution_id, user_id, local, "local")
            _TOOLSETS["mcp"] = _recording(db, execution_id, user_id, server, "mcp")

            async def echo_direct() -> None:
                for i in range(CALLS):
                    await local.call_tool("echo", {"text": f"call {i}"}, None, None)  # type: ignore[arg-type]

            async def mcp_direct() -> None:
                for i in range(CALLS):
                    await server.call("echo", {"text": f"call {i}"})

            def recorded(which: str) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    with SetWorkflowID(str(uuid.uuid4())):
                        handle = await DBOS.start_workflow_async(_recorded_calls, which, CALLS)
                    await handle.get_result()

                return run

            figures = {
                "echo direct": await _timed(echo_direct),
                "echo recorded": await _timed(recorded("local")),
                "mcp stdio direct": await _timed(mcp_direct),
                "mcp stdio recorded": await _timed(recorded("mcp")),
            }
        finally:
            await server.close()
            DBOS.destroy()
            db.dispose()
    figures["recording overhead"] = figures["echo recorded"] - figures["echo direct"]
    figures["mcp stdio overhead"] = figures["mcp stdio direct"] - figures["echo direct"]
    if as_json:
        for name, ms in figures.items():
            print(json.dumps({"scenario": f"tools: {name}", "ms_per_call": round(ms, 3)}))
        return
    for name, ms in figures.items():
        print(f"{name:<20} {ms:8.3f} ms per call", flush=True)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"({CALLS} calls a run, median of {TIMED_RUNS} runs; Python {sys.version.split()[0]})")
