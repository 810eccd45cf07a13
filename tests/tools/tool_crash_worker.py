"""A process the tool crash test kills: runs one execution with the real team, whose agent
records notes through the counting MCP server, until no execution is unfinished.

    python tool_crash_worker.py <db_url> <state_dir> <workspaces> [<workflow_id>:<user_id>]

The agent's model (a `FunctionModel`, deterministic) calls `notes_record` with `call 1`,
`call 2`, ... one per turn, taking a while before each call so that a kill lands between
calls, and answers after `CALLS` notes.
"""

import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from accord.engine.service import Engine
from accord.storage.db import Database
from accord.storage.tables import workflow_executions
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam

CALLS = 6
TURN_SECONDS = 0.3


async def note_taker(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if not any(t.name == "notes_record" for t in info.function_tools):
        return _answer(info)  # the coordinator's choice, or anything else than the step
    done = sum(
        1
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if getattr(p, "tool_name", None) == "notes_record"
    )
    await asyncio.sleep(TURN_SECONDS)
    if done < CALLS:
        return ModelResponse(parts=[ToolCallPart("notes_record", {"note": f"call {done + 1}"})])
    return _answer(info)


def _answer(info: AgentInfo) -> ModelResponse:
    args: dict[str, Any] = {"summary": "notes taken", "output": f"{CALLS} notes"}
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])


async def main(db_url: str, state_dir: str, workspaces: str, starts: list[str]) -> None:
    db = Database(db_url)
    team = AgentTeam(
        db,
        models=lambda _agent: AgentModel(FunctionModel(note_taker)),
        workspaces=Path(workspaces),
    )
    engine = Engine(db, team, executor_id="tool-crash-worker", state_dir=Path(state_dir))
    await engine.start()
    for start in starts:
        workflow_id, user_id = start.split(":")
        await engine.start_execution(workflow_id, user_id)
    print("ready", flush=True)
    while True:
        with db.session() as s:
            unfinished = s.execute(
                select(workflow_executions.c.id).where(
                    workflow_executions.c.status.in_(["running", "paused", "pending"])
                )
            ).all()
        if not unfinished:
            break
        await asyncio.sleep(0.05)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
