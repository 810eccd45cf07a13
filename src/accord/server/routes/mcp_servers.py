"""Saved MCP servers: `env` and `headers` values are write-only; responses show their keys
with masked values."""

from fastapi import APIRouter, status

from accord.domain.mcp_server import McpServerCreate, McpServerUpdate, SavedMcpServer
from accord.server.access import EditAccess, ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.mcp_servers import McpServerRepository

router = APIRouter(prefix="/mcp-servers", tags=["mcp-servers"], responses=ERROR_RESPONSES)


@router.get("")
def list_mcp_servers(access: ReadAccess, session: SessionDep) -> list[SavedMcpServer]:
    return McpServerRepository(session).list(user_id=access.owner_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_mcp_server(
    body: McpServerCreate, access: EditAccess, session: SessionDep
) -> SavedMcpServer:
    """Save a server once; workflows name it from `mcpServers` as `{"saved": "<name>"}`."""
    return McpServerRepository(session).create(user_id=access.owner_id, request=body)


@router.get("/{server_id}")
def get_mcp_server(server_id: str, access: ReadAccess, session: SessionDep) -> SavedMcpServer:
    return McpServerRepository(session).get(server_id, user_id=access.owner_id)


@router.patch("/{server_id}")
def update_mcp_server(
    server_id: str, body: McpServerUpdate, access: EditAccess, session: SessionDep
) -> SavedMcpServer:
    """Only the fields sent change; `env` or `headers`, when sent, replace the stored map."""
    return McpServerRepository(session).update(server_id, user_id=access.owner_id, request=body)


@router.delete("/{server_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_mcp_server(server_id: str, access: EditAccess, session: SessionDep) -> None:
    """Refused (409, naming them) while workflows name the server."""
    McpServerRepository(session).delete(server_id, user_id=access.owner_id)
