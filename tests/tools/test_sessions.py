"""MCP sessions over streamable HTTP: a server that goes away fails the call with its URL
named, and once it is back the session is reopened and calls go through again."""

import os
import socket
import subprocess
import sys

import pytest

from accord.domain.tools import McpServer
from accord.engine.testing import stop_all
from accord.tools.sessions import ServerSession, ServerUnavailable
from tests.support import free_port, wait_for


def start_http_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "accord.tools.testing", "http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(f"the MCP server on port {port}", lambda: _listening(port), timeout=30)
    return process


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_a_dropped_http_session_is_reopened_and_the_call_goes_through():
    port = free_port()
    server = McpServer(url="http://127.0.0.1:${PORT}/mcp")
    session = ServerSession("remote", server, environ={**os.environ, "PORT": str(port)})
    first = start_http_server(port)
    processes = [first]
    try:
        assert await session.call("echo", {"text": "before"}) == "before"
        first.kill()  # the server goes away with the connection the client held
        first.wait()
        with pytest.raises(ServerUnavailable, match=r"url: http://127.0.0.1:\$\{PORT\}/mcp\)"):
            await session.call("echo", {"text": "while it is down"})
        processes.append(start_http_server(port))
        assert await session.call("echo", {"text": "after"}) == "after"
        assert session.starts == 3  # the first session, a try while it was down, a new one
    finally:
        await session.close()
        stop_all(processes)


async def test_an_http_server_that_is_not_there_names_its_url():
    port = free_port()
    session = ServerSession(
        "remote", McpServer(url=f"http://127.0.0.1:{port}/mcp"), environ={}, start_timeout=5
    )
    with pytest.raises(ServerUnavailable) as info:
        await session.list_tools()
    assert f"MCP server 'remote' (url: http://127.0.0.1:{port}/mcp) could not be started" in str(
        info.value
    )
