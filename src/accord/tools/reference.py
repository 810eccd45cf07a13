"""The reference MCP servers (`@modelcontextprotocol/server-*`) that `./dev setup` installs
from tools/mcp-servers/package-lock.json: the demo, the examples and the tests run them."""

import shutil
from pathlib import Path

from accord.domain.tools import McpServer

REFERENCE_SERVERS = Path(__file__).resolve().parents[3] / "tools" / "mcp-servers"
"""Where `./dev setup` installs them (in a source checkout)."""


def reference_server(package: str, *args: str) -> McpServer | None:
    """A reference server (`filesystem`, `everything`) over stdio, or None when it is not
    installed (or there is no Node.js to run it)."""
    script = (
        (REFERENCE_SERVERS / "node_modules" / "@modelcontextprotocol" / f"server-{package}")
        / "dist"
        / "index.js"
    )
    if not script.is_file() or shutil.which("node") is None:
        return None
    return McpServer(command="node", args=[str(script), *args])
