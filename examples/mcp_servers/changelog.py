"""A small MCP server for examples/release-notes.yaml, built with the official `mcp` SDK.

It knows a project's changes since its last release (`changes.json` beside it) and publishes
release notes into a folder (`NOTES_DIR`: the workflow points it at the execution's
workspace). Any MCP client can use it:

    python examples/mcp_servers/changelog.py          # speaks MCP over stdio
"""

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

CHANGES = Path(__file__).with_name("changes.json")

server = MCPServer("changelog", log_level="WARNING")


def _changes() -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = json.loads(CHANGES.read_text(encoding="utf-8"))
    return changes


@server.tool()
def recent_changes(limit: int = 20) -> list[dict[str, Any]]:
    """The changes merged since the last release, newest first (id, kind, title, author)."""
    return _changes()[:limit]


@server.tool()
def count_changes_by_kind() -> dict[str, int]:
    """How many changes of each kind (feature, fix, docs, ...) were merged since the release."""
    return dict(Counter(change["kind"] for change in _changes()))


@server.tool()
def publish_release_notes(text: str, version: str = "next") -> str:
    """Publish release notes (Markdown) for `version` into the notes folder."""
    folder = Path(os.environ.get("NOTES_DIR", "."))
    if not re.fullmatch(r"[\w.-]{1,40}", version):
        raise ToolError(f"{version!r} is not a version name: use letters, digits, '.', '-'")
    target = folder / f"RELEASE_NOTES-{version}.md"
    target.write_text(text, encoding="utf-8")
    return f"Published {len(text):,} characters to {target}"


if __name__ == "__main__":
    server.run("stdio")
