"""`accord mcp`: your workflows as MCP tools over stdio, for an MCP client (Claude Desktop,
an IDE, another agent framework) that starts this command itself.

It runs the engine and the agent team in this process, as `accord run` does, on the local
database as the local user. Standard output carries the protocol alone; logs go to stderr.
When the client closes the connection the engine stops cleanly, and an execution still
running is resumed by the next process on the same database (`accord serve`, or the next
`accord mcp`) from its last recorded call.
"""

import asyncio
import os

from accord.storage.db import Database
from accord.team import local_user_id, open_database


def mcp() -> None:
    """Serve your workflows as MCP tools over stdio (list, start, follow, get results)."""
    os.environ.setdefault("ACCORD_DBOS_LOG_LEVEL", "ERROR")  # stderr stays readable
    database = open_database()
    try:
        with database.session() as session:
            user_id = local_user_id(session)
        asyncio.run(_serve(database, user_id))
    finally:
        database.dispose()


async def _serve(database: Database, user_id: str) -> None:
    from accord.engine.service import Engine  # the engine stack loads only when serving
    from accord.server.mcp_tools import AccordTools, build_mcp_server
    from accord.team import AgentTeam

    engine = Engine(database, AgentTeam(database))
    await engine.start()
    try:
        server = build_mcp_server(AccordTools(database, engine), who=lambda _ctx: user_id)
        await server.run_stdio_async()
    finally:
        await engine.stop()
