"""A real MCP server for tests, benchmarks and examples, built with the official `mcp` SDK.

    python -m accord.tools.testing stdio
    python -m accord.tools.testing http --port 8765      # streamable HTTP at /mcp

Its tools have effects a test can observe: `record` appends a line to the file named by
`ACCORD_TEST_COUNTER` (so a test counts how often a call really ran), `crash` kills the
server mid-call, `fail` answers with a tool error, `slow` takes its time, `big` answers with
a long text. `--fail-on-start` writes to stderr and exits before speaking MCP, as a
misconfigured server does.
"""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from accord.domain.tools import McpServer

COUNTER_ENV = "ACCORD_TEST_COUNTER"


def counting_server(counter: Path, *args: str) -> McpServer:
    """This module's server over stdio, counting `record` calls in `counter`."""
    return McpServer(
        command=sys.executable,
        args=["-m", "accord.tools.testing", "stdio", *args],
        env={COUNTER_ENV: str(counter)},
    )


server = MCPServer(
    "accord-test",
    instructions="A test server with observable side effects.",
    log_level="CRITICAL",  # its stderr carries what a test asserts on, not request logs
)


@server.tool()
def echo(text: str) -> str:
    """Say `text` back."""
    return text


@server.tool()
def record(note: str) -> str:
    """Append `note` to the counter file, and say how many notes it holds now."""
    path = Path(os.environ[COUNTER_ENV])
    with path.open("a", encoding="utf-8") as f:
        f.write(note + "\n")
    return f"recorded {note!r}; {len(path.read_text(encoding='utf-8').splitlines())} notes so far"


@server.tool()
def crash() -> str:
    """Die in the middle of the call, as a buggy server does."""
    print("accord-test: crashing on purpose", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def fail(message: str) -> str:
    """Answer with a tool error carrying `message`."""
    raise ToolError(message)


@server.tool()
async def slow(seconds: float) -> str:
    """Take `seconds` to answer."""
    await asyncio.sleep(seconds)
    return f"done after {seconds:g} s"


@server.tool()
def big(chars: int) -> str:
    """Answer with `chars` characters of text."""
    return ("0123456789" * (chars // 10 + 1))[:chars]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m accord.tools.testing")
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail-on-start", action="store_true")
    args = parser.parse_args(argv)
    if args.fail_on_start:
        print("accord-test: cannot open its database: permission denied", file=sys.stderr)
        sys.exit(2)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
