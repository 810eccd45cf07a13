"""Saved MCP servers: a server a user configures once and names from any workflow.

The configuration is the `mcpServers` entry shape that Claude Desktop, pydantic-ai and
LangChain share: a stdio server (`command`, `args`, `env`, `cwd`) or a streamable-HTTP one
(`url`, `headers`). `env` and `headers` values often hold secrets (API tokens), so they are
write-only: stored encrypted, and shown back as their keys with masked values.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from accord.domain.base import CamelModel

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


class McpServerConfig(CamelModel):
    """One `mcpServers` entry, with its secrets in clear: what the tools runtime connects with.
    Values may hold `${VAR}` / `${VAR:-default}`, expanded when a step runs."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    require_approval: bool = False
    """Every call to this server's tools waits for a user's approval."""

    @property
    def transport(self) -> McpTransport:
        return "stdio" if self.command else "http"

    def entry(self) -> dict[str, Any]:
        """The `mcpServers` entry (camelCase JSON) with only the keys that apply."""
        if self.command:
            entry: dict[str, Any] = {"command": self.command, "args": list(self.args)}
            if self.env:
                entry["env"] = dict(self.env)
            if self.cwd:
                entry["cwd"] = self.cwd
        else:
            entry = {"url": self.url}
            if self.headers:
                entry["headers"] = dict(self.headers)
        if self.require_approval:
            entry["requireApproval"] = True
        return entry


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

    def config(self) -> McpServerConfig:
        return McpServerConfig.model_validate(self.model_dump(exclude={"name"}))


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


def check_config(config: McpServerConfig) -> None:
    """Raise ValueError if `config` names no transport, both, or mixes their keys."""
    _check_transport(config.command, config.url, config.env, config.headers)


def saved_server_reference(entry: object) -> str | None:
    """The saved server an `mcpServers` entry names (`{"saved": "my-files"}`), else None."""
    if isinstance(entry, dict):
        name = entry.get("saved")
        if isinstance(name, str):
            return name
    return None
