"""An execution's workspace files: listed with who wrote them, downloaded one by one or all
as a zip. Another user's execution is a 404, and a path that leaves the workspace a 400."""

import mimetypes
import os
import tempfile

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from accord.domain.errors import NotFound
from accord.domain.workspace import WorkspaceFile
from accord.server.access import ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.storage.repositories.executions import ExecutionRepository
from accord.tools.workspace_folder import list_files, locate_workspace

router = APIRouter(prefix="/executions/{execution_id}", tags=["files"], responses=ERROR_RESPONSES)

BINARY = "application/octet-stream"


@router.get("/files")
def list_workspace_files(
    execution_id: str, access: ReadAccess, session: SessionDep
) -> list[WorkspaceFile]:
    """Every file in the execution's workspace (its child executions' folders included, under
    `children/<id>/`), by path; `stepId`/`agentId` are null when the file was not written
    through the `workspace` toolkit."""
    ExecutionRepository(session).get(execution_id, user_id=access.owner_id)
    return list_files(session, execution_id)


@router.get(
    "/files.zip",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_workspace_zip(
    execution_id: str, access: ReadAccess, session: SessionDep
) -> FileResponse:
    """All the workspace's files in one zip archive, by their paths."""
    execution = ExecutionRepository(session).get(execution_id, user_id=access.owner_id)
    workspace = locate_workspace(session, execution_id)
    fd, name = tempfile.mkstemp(prefix="accord-workspace-", suffix=".zip")
    with os.fdopen(fd, "wb") as out:
        workspace.write_zip(out)
    return FileResponse(
        name,
        media_type="application/zip",
        filename=f"workspace-{execution.id[:8]}.zip",
        background=BackgroundTask(os.unlink, name),
    )


@router.get(
    "/files/{path:path}",
    response_class=FileResponse,
    responses={200: {"content": {BINARY: {}}}},
)
def download_workspace_file(
    execution_id: str, path: str, access: ReadAccess, session: SessionDep
) -> FileResponse:
    """One file's content as it is (its type guessed from its name)."""
    ExecutionRepository(session).get(execution_id, user_id=access.owner_id)
    target = locate_workspace(session, execution_id).resolve(path)
    if target.is_symlink() or not target.is_file():
        raise NotFound("workspace file", path)
    media_type = mimetypes.guess_type(target.name)[0] or BINARY
    return FileResponse(target, media_type=media_type, filename=target.name)
