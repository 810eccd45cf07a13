"""Saved MCP servers, with their `env` and `headers` values encrypted at rest.

The values go in through `create`/`update` and come out in clear only through `configs_for`,
which the tools runtime calls when a step connects to the servers; `SavedMcpServer` shows
the keys with masked values.
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import same_name
from accord.domain.errors import Conflict, InvalidInput, NotFound, validation_problems
from accord.domain.mcp_server import (
    MASKED,
    McpServerCreate,
    McpServerUpdate,
    SavedMcpServer,
    saved_server_reference,
)
from accord.domain.tools import McpServer
from accord.storage.repositories._convert import to_datetime
from accord.storage.repositories._names import check_name_free
from accord.storage.secrets import decrypt_secret, encrypt_secret
from accord.storage.tables import collaboration_workflows, epoch_now, mcp_servers, new_id


def _encrypt(values: dict[str, str]) -> str | None:
    return encrypt_secret(json.dumps(values)) if values else None


def _decrypt(token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    values: dict[str, str] = json.loads(decrypt_secret(token))
    return values


def _masked_keys(token: str | None) -> dict[str, str]:
    return dict.fromkeys(_decrypt(token), MASKED)


def _server(row: Row[Any]) -> SavedMcpServer:
    return SavedMcpServer(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        transport="stdio" if row.command else "http",
        command=row.command,
        args=row.args or [],
        env=_masked_keys(row.encrypted_env),
        cwd=row.cwd,
        url=row.url,
        headers=_masked_keys(row.encrypted_headers),
        require_approval=bool(row.require_approval),
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def _config(row: Row[Any]) -> McpServer:
    return McpServer(
        command=row.command,
        args=row.args or [],
        env=_decrypt(row.encrypted_env),
        cwd=row.cwd,
        url=row.url,
        headers=_decrypt(row.encrypted_headers),
        require_approval=bool(row.require_approval),
    )


def _columns(config: McpServer) -> dict[str, Any]:
    return {
        "command": config.command,
        "args": list(config.args),
        "cwd": config.cwd,
        "url": config.url,
        "encrypted_env": _encrypt(config.env),
        "encrypted_headers": _encrypt(config.headers),
        "require_approval": bool(config.require_approval),
    }


class McpServerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, user_id: str, request: McpServerCreate) -> SavedMcpServer:
        """Raise Conflict if the user already has a server of that name (ignoring case)."""
        self._check_name_free(request.name, user_id)
        now = epoch_now()
        row = self.session.execute(
            insert(mcp_servers)
            .values(
                id=new_id(),
                user_id=user_id,
                name=request.name,
                **_columns(request.config()),
                created_at=now,
                updated_at=now,
            )
            .returning(mcp_servers)
        ).one()
        return _server(row)

    def get(self, server_id: str, *, user_id: str) -> SavedMcpServer:
        return _server(self._row(server_id, user_id))

    def list(self, *, user_id: str) -> builtins.list[SavedMcpServer]:
        rows = self.session.execute(
            select(mcp_servers)
            .where(mcp_servers.c.user_id == user_id)
            .order_by(mcp_servers.c.name, mcp_servers.c.id)
        )
        return [_server(r) for r in rows]

    def update(self, server_id: str, *, user_id: str, request: McpServerUpdate) -> SavedMcpServer:
        """Change the fields sent; switching transport (`command` <-> `url`) clears the other's
        fields, and the result must still name exactly one transport."""
        row = self._row(server_id, user_id)
        sent = request.model_fields_set
        if request.name is not None and not same_name(request.name, row.name):
            self._check_name_free(request.name, user_id, own_id=server_id)
        merged = _config(row).model_dump(by_alias=False, exclude={"type", "saved"})
        if "url" in sent and request.url:  # now an HTTP server
            merged.update(command=None, args=[], env={}, cwd=None)
        if "command" in sent and request.command:  # now a stdio server
            merged.update(url=None, headers={})
        for field in sent - {"name"}:
            value = getattr(request, field)
            if value is not None or field == "cwd":  # null clears cwd, leaves the rest as is
                merged[field] = value
        try:
            config = McpServerCreate.model_validate({**merged, "name": row.name}).config()
        except ValidationError as exc:
            raise InvalidInput(validation_problems(exc.errors())) from None
        changes = _columns(config)
        if request.name is not None:
            changes["name"] = request.name
        updated = self.session.execute(
            update(mcp_servers)
            .where(mcp_servers.c.id == server_id, mcp_servers.c.user_id == user_id)
            .values(**changes, updated_at=epoch_now())
            .returning(mcp_servers)
        ).one()
        return _server(updated)

    def delete(self, server_id: str, *, user_id: str) -> None:
        """Delete a server no workflow names; otherwise say which workflows do."""
        row = self._row(server_id, user_id)
        users = self.workflows_naming(row.name, user_id=user_id)
        if users:
            raise Conflict(
                f"MCP server {row.name!r} is named by workflow(s) {', '.join(users)}; remove it "
                "from their mcpServers (or delete them) first",
                details={"id": server_id, "workflows": users},
            )
        self.session.execute(delete(mcp_servers).where(mcp_servers.c.id == server_id))

    def workflows_naming(self, name: str, *, user_id: str) -> builtins.list[str]:
        """The names of the user's workflows whose `mcpServers` name this saved server."""
        rows = self.session.execute(
            select(collaboration_workflows.c.name, collaboration_workflows.c.configuration)
            .where(collaboration_workflows.c.user_id == user_id)
            .order_by(collaboration_workflows.c.name)
        )
        found = []
        for workflow_name, configuration in rows:
            entries = (configuration or {}).get("mcpServers") or {}
            if isinstance(entries, dict) and any(
                (ref := saved_server_reference(e)) is not None and same_name(ref, name)
                for e in entries.values()
            ):
                found.append(workflow_name)
        return found

    def configs_for(self, names: Iterable[str], *, user_id: str) -> dict[str, McpServer]:
        """The user's saved servers of these names (ignoring case), with `env` and `headers`
        in clear, keyed by the name asked for: for the tools runtime only, never log them or
        send them to a client. An unknown name is InvalidInput with the closest names."""
        rows = self.session.execute(select(mcp_servers).where(mcp_servers.c.user_id == user_id))
        by_name = {r.name.strip().casefold(): r for r in rows}
        configs: dict[str, McpServer] = {}
        for name in names:
            row = by_name.get(name.strip().casefold())
            if row is None:
                close = difflib.get_close_matches(name, [r.name for r in by_name.values()], n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise InvalidInput.of(
                    "mcpServers",
                    f"no saved MCP server is named {name!r}",
                    f"{hint}save it first (`accord mcp-servers create {name} ...`) or fix the "
                    "name (`accord mcp-servers list`)",
                )
            configs[name] = _config(row)
        return configs

    def resolve(self, servers: Mapping[str, McpServer], *, user_id: str) -> dict[str, McpServer]:
        """A workflow's `mcpServers` with each `{"saved": name}` entry replaced by that saved
        server, secrets in clear (what the tools runtime connects with; never store or show
        the result). Approval is required if either the entry or the saved server asks."""
        wanted = {s.saved for s in servers.values() if s.saved is not None}
        saved = self.configs_for(sorted(wanted), user_id=user_id)
        resolved = {}
        for name, server in servers.items():
            if server.saved is None:
                resolved[name] = server
                continue
            config = saved[server.saved]
            resolved[name] = config.model_copy(
                update={"require_approval": server.require_approval or config.require_approval}
            )
        return resolved

    def names(self, *, user_id: str) -> set[str]:
        """The user's saved servers' names (what a workflow's `saved` entries may name)."""
        return set(
            self.session.scalars(select(mcp_servers.c.name).where(mcp_servers.c.user_id == user_id))
        )

    def _check_name_free(self, name: str, user_id: str, *, own_id: str | None = None) -> None:
        check_name_free(
            self.session,
            select(mcp_servers.c.id, mcp_servers.c.name).where(mcp_servers.c.user_id == user_id),
            kind="saved MCP server",
            name=name,
            own_id=own_id,
        )

    def _row(self, server_id: str, user_id: str) -> Row[Any]:
        row = self.session.execute(
            select(mcp_servers).where(
                mcp_servers.c.id == server_id, mcp_servers.c.user_id == user_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound("MCP server", server_id)
        return row
