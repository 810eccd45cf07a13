"""MCP servers as one attempt uses them: at most one session per server, opened on first use.

A `ServerSession` holds pydantic-ai's `MCPToolset` for one declared server, with its values
expanded from this process's environment. It connects when a listing or a call first needs
the server (a replayed attempt whose calls are all recorded never starts it), and:
- a server that cannot start (a bad command, a crash on start, a start that takes too long)
  raises `ServerUnavailable`, whose message names the server, the command and the tail of
  what the server wrote to stderr;
- a server that dies during a call raises `ServerUnavailable` too, and the next call starts
  it again; an HTTP session that dropped is reopened and the call sent once more.
The attempt closes every session when it ends (`ServerSessions.close`).
"""

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastmcp.client.transports import StdioTransport
from pydantic_ai import ModelRetry, ToolFailed
from pydantic_ai.mcp import TOOL_SCHEMA_VALIDATOR, MCPToolset
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, ToolsetTool

from accord.domain.errors import AccordError
from accord.domain.tools import McpServer, MissingVariable, expanded

START_TIMEOUT_SECONDS = 30.0
"""How long a server may take to start and answer the MCP handshake."""
STDERR_TAIL_CHARS = 1500


class ServerUnavailable(AccordError):
    """An MCP server that could not be started or reached, or that died during a call."""

    code = "tool_server_unavailable"


class ToolCallFailed(AccordError):
    """The server answered the call with an error (the model is told, and may act on it)."""

    code = "tool_call_failed"


class ServerSession(AbstractToolset[Any]):
    """One declared MCP server, connected on first use within one attempt. As a toolset it
    lists and calls the server's tools directly; `DurableToolset` wraps it to record them."""

    def __init__(
        self,
        name: str,
        server: McpServer,
        *,
        environ: Mapping[str, str],
        start_timeout: float = START_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        self.server = server
        self.environ = environ
        self.start_timeout = start_timeout
        self._toolset: MCPToolset[Any] | None = None
        self._stderr: Path | None = None
        self._stderr_from = 0
        """Where the current session's stderr starts in the file (earlier starts come before)."""
        self._lock = asyncio.Lock()
        self.starts = 0
        """How many times the server was started or connected (a test and `describe` read it)."""

    @property
    def id(self) -> str | None:
        return self.name

    def describe(self) -> str:
        return self.server.describe()

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        return {
            d.name: ToolsetTool[Any](
                toolset=self,
                tool_def=d,
                max_retries=ctx.max_retries,
                args_validator=TOOL_SCHEMA_VALIDATOR,
            )
            for d in await self.list_tools()
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        return await self.call(name, tool_args)

    async def list_tools(self) -> list[ToolDefinition]:
        """The server's tools (connecting if need be), as pydantic-ai defines them."""
        toolset = await self._connected()
        try:
            tools = await toolset.list_tools()
        except Exception as exc:
            await self._reset()
            raise self._unavailable("stopped answering while listing its tools", exc) from exc
        return [
            ToolDefinition(
                name=t.name,
                description=t.description,
                parameters_json_schema=dict(t.input_schema),
            )
            for t in tools
        ]

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call `tool`; a dropped HTTP session is reopened and the call sent once more."""
        for attempt in (1, 2):
            toolset = await self._connected()
            try:
                return await toolset.direct_call_tool(tool, arguments)
            except ToolFailed as exc:  # the tool answered with an error
                raise ToolCallFailed(_message(exc)) from exc
            except Exception as exc:  # the session broke (a protocol error is a ModelRetry)
                await self._reset()
                if self.server.transport == "http" and attempt == 1:
                    continue  # an HTTP session dropped: open a new one, send the call again
                what = "died during the call" if self.server.transport == "stdio" else "dropped"
                raise self._unavailable(what, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        await self._reset()
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.unlink()
            self._stderr = None

    async def _connected(self) -> MCPToolset[Any]:
        async with self._lock:
            if self._toolset is not None:
                return self._toolset
            toolset = self._build()
            self.starts += 1
            self._stderr_from = self._stderr.stat().st_size if self._stderr else 0
            try:
                async with asyncio.timeout(self.start_timeout):
                    await toolset.__aenter__()
            except TimeoutError as exc:
                with contextlib.suppress(Exception):
                    await toolset.__aexit__(None, None, None)
                raise self._unavailable(
                    f"did not start within {self.start_timeout:g} seconds", exc
                ) from exc
            except Exception as exc:
                raise self._unavailable("could not be started", exc) from exc
            self._toolset = toolset
            return toolset

    def _build(self) -> MCPToolset[Any]:
        try:
            server = expanded(self.server, self.environ)
        except MissingVariable as exc:
            raise ServerUnavailable(
                f"MCP server {self.name!r} uses ${{{exc.name}}}, which is not set in the "
                "environment of the process running this step; set it there"
            ) from exc
        if server.command is not None:
            if self._stderr is None:
                handle, path = tempfile.mkstemp(prefix=f"accord-mcp-{self.name}-", suffix=".log")
                os.close(handle)
                self._stderr = Path(path)
            transport = StdioTransport(
                command=server.command,
                args=list(server.args),
                env=dict(server.env) or None,
                cwd=server.cwd,
                keep_alive=False,
                log_file=self._stderr,
            )
            return MCPToolset(
                transport,
                id=self.name,
                tool_error_behavior="failed",
                init_timeout=self.start_timeout,
            )
        assert server.url is not None
        return MCPToolset(
            server.url,
            id=self.name,
            headers=dict(server.headers) or None,
            tool_error_behavior="failed",
            init_timeout=self.start_timeout,
        )

    async def _reset(self) -> None:
        toolset, self._toolset = self._toolset, None
        if toolset is not None:
            with contextlib.suppress(BaseException):
                await toolset.__aexit__(None, None, None)

    def stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            with self._stderr.open("rb") as f:
                f.seek(max(self._stderr_from, f.seek(0, os.SEEK_END) - STDERR_TAIL_CHARS))
                return f.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return ""

    def _unavailable(self, what: str, exc: BaseException) -> ServerUnavailable:
        where = "command" if self.server.transport == "stdio" else "url"
        message = f"MCP server {self.name!r} ({where}: {self.describe()}) {what}: {_message(exc)}"
        if tail := self.stderr_tail():
            message += f"\n--- its stderr (last lines) ---\n{tail}"
        return ServerUnavailable(message, details={"server": self.name})


def _message(exc: BaseException) -> str:
    """The innermost useful message of an exception (anyio wraps them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, ToolFailed):
        return exc.message
    if isinstance(exc, ModelRetry):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ServerSessions:
    """The sessions of one attempt, by server name; closed together when it ends."""

    def __init__(self, servers: Mapping[str, McpServer], *, environ: Mapping[str, str]) -> None:
        self._sessions = {
            name: ServerSession(name, server, environ=environ) for name, server in servers.items()
        }

    def get(self, name: str) -> ServerSession:
        return self._sessions[name]

    def __contains__(self, name: str) -> bool:
        return name in self._sessions

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
