"""Saved MCP servers: a server a user configures once and names from any workflow's
`mcpServers` as `{"saved": "<name>"}`.

The configuration is the `mcpServers` entry (`McpServer`) that Claude Desktop, pydantic-ai
and LangChain share: a stdio server (`command`, `args`, `env`, `cwd`) or a streamable-HTTP
one (`url`, `headers`). `env` and `headers` values often hold secrets (API tokens), so they are
write-only: stored encrypted, and shown back as their keys with masked values.
"""

import re
from datetime import datetime
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from accord.domain.base import CamelModel
from accord.domain.tools import McpServer

MASKED = "********"
"""What a response shows in place of a stored `env` or `headers` value."""

McpTransport = Literal["stdio", "http"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _server_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"{name!r} cannot name an MCP server: agents name its tools `<server>.<tool>`, so use "
            "letters, digits, '-' and '_' only, starting with a letter, at most 64 (e.g. my-files)"
        )
    return name


ServerName = Annotated[str, AfterValidator(_server_name)]


def _check_transport(
    command: str | None, url: str | None, env: dict[str, str], headers: dict[str, str]
) -> None:
    """One of `command` (stdio) or `url` (streamable HTTP), with only that transport's keys."""
    if bool(command) == bool(url):
        raise ValueError(
            "give either `command` (a stdio server, e.g. npx) or `url` (a streamable-HTTP "
            "server), not both and not neither"
        )
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"url {url!r} is not an http:// or https:// URL")
        if env:
            raise ValueError("`env` applies to stdio servers only; an HTTP server takes `headers`")
    if command and headers:
        raise ValueError("`headers` apply to HTTP servers only; a stdio server takes `env`")


class McpServerCreate(CamelModel):
    """Save a server. `env` and `headers` values are stored encrypted and never shown again."""

    name: ServerName
    command: str | None = Field(default=None, min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    require_approval: bool = False

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        _check_transport(self.command, self.url, self.env, self.headers)
        return self

    def config(self) -> McpServer:
        return McpServer.model_validate(self.model_dump(exclude={"name"}))


class McpServerUpdate(CamelModel):
    """Only the fields sent change; `env` or `headers`, when sent, replace the stored map
    whole (send `{}` to clear it). The result is checked as a whole."""

    name: ServerName | None = None
    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    require_approval: bool | None = None


class SavedMcpServer(CamelModel):
    """A saved server as the API shows it: secrets masked."""

    id: str
    user_id: str
    name: str
    transport: McpTransport
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    """Keys as saved, each value shown as `********`."""
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    """Keys as saved, each value shown as `********`."""
    require_approval: bool = False
    created_at: datetime
    updated_at: datetime


def saved_server_reference(entry: object) -> str | None:
    """The saved server an `mcpServers` entry names (`{"saved": "my-files"}`), else None."""
    if isinstance(entry, dict):
        name = entry.get("saved")
        if isinstance(name, str):
            return name
    return None
