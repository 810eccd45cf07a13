"""An execution's workspace: the folder its team reads and writes, and the files in it."""

from datetime import datetime
from pathlib import PurePosixPath

from accord.domain.base import CamelModel
from accord.domain.errors import Problem


class WorkspaceFile(CamelModel):
    """One file of a workspace. `stepId`/`agentId` say who last wrote it through the
    `workspace` toolkit; they are null for a file written any other way (an MCP server
    pointed at the folder, a person), whose author Accord cannot know."""

    path: str
    """Relative to the workspace, with `/` separators."""
    size: int
    step_id: str | None = None
    attempt: int | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    modified_at: datetime


def workspace_path_problem(path: str, field: str) -> Problem | None:
    """A folder a user names for a workspace must be absolute (`~` allowed): a relative one
    would depend on where each process that runs a step was started."""
    if not path.strip():
        return Problem(field, "the workspace folder is blank", "give an absolute path, or omit it")
    if "\0" in path:
        return Problem(field, "the path holds a NUL character", "give a plain absolute path")
    if not (path.startswith("~") or PurePosixPath(path).is_absolute()):
        return Problem(
            field,
            f"{path!r} is a relative path, which would depend on where each process runs",
            "give an absolute path (or one starting with ~); in a workflow file a relative path "
            "is taken relative to the file",
        )
    return None
