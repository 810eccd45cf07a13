"""The built-in `workspace` toolkit: list, read, write, edit and search the files of the
execution's workspace folder.

Every path is relative to the folder and checked by `Workspace.resolve` (no absolute paths,
no `..` or symlink out); a refused path, a missing file or a write over the size limits is
a `ModelRetry`, so the model reads why and can try again. Each write is reported to a
`WriteRecorder`, which records who wrote the file (`workspace_files`) and emits a
`workspace.file_written` event: `record_writes` is the one the team uses.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai import ModelRetry
from pydantic_ai.toolsets import FunctionToolset

from accord.domain.errors import AccordError
from accord.domain.events import EventKind, WorkspaceFileWritten
from accord.storage.db import Database
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.workspace_files import WorkspaceFileRepository
from accord.tools.workspace_folder import Workspace, WorkspaceLimits

TOOLKIT_NAME = "workspace"
MAX_LISTED_FILES = 500
MAX_SEARCH_MATCHES = 200
MAX_MATCH_LINE_CHARS = 300
TOOL_RETRIES = 5
"""Refusals a model may meet per tool in one run before the attempt gives up: enough to
correct a path or two, not enough to loop."""

WriteRecorder = Callable[[str, int], Awaitable[None]]
"""Called after each write with the file's path (relative to the workspace) and size."""


@dataclass(frozen=True)
class FileAuthor:
    """Who is writing: the attempt the toolkit serves."""

    execution_id: str
    user_id: str
    step_id: str
    attempt: int
    agent_id: str | None


def record_writes(db: Database, author: FileAuthor) -> WriteRecorder:
    """A recorder that stores the file's author and appends its `workspace.file_written`
    event in one transaction."""

    def record(path: str, size: int) -> None:
        with db.session() as session:
            WorkspaceFileRepository(session).record_write(
                execution_id=author.execution_id,
                path=path,
                size=size,
                step_id=author.step_id,
                attempt=author.attempt,
                agent_id=author.agent_id,
            )
            EventRepository(session).append(
                execution_id=author.execution_id,
                user_id=author.user_id,
                kind=EventKind.WORKSPACE_FILE_WRITTEN,
                step_id=author.step_id,
                data=WorkspaceFileWritten(
                    path=path,
                    size=size,
                    stepId=author.step_id,
                    attempt=author.attempt,
                    agentId=author.agent_id,
                ),
            )

    async def recorder(path: str, size: int) -> None:
        await asyncio.to_thread(record, path, size)

    return recorder


def workspace_toolset(
    workspace: Workspace,
    *,
    on_write: WriteRecorder | None = None,
    limits: WorkspaceLimits | None = None,
) -> FunctionToolset[Any]:
    """The toolkit over `workspace`, reporting each write to `on_write`."""
    limits = limits or WorkspaceLimits.from_env()

    def checked(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except AccordError as exc:
            raise ModelRetry(exc.message) from None

    async def list_files(folder: str = ".") -> str:
        """List the files in the workspace (or in one of its folders), with their sizes.

        Args:
            folder: A folder relative to the workspace; "." for all of it.
        """

        def run() -> str:
            base = workspace.resolve(folder)
            prefix = "" if base == workspace.root.resolve() else workspace.relative(base) + "/"
            files = [f for f in workspace.files() if f.path.startswith(prefix)]
            if not files:
                return f"No files in {folder!r} yet." if prefix else "The workspace is empty."
            lines = [f"{f.path} ({f.size:,} bytes)" for f in files[:MAX_LISTED_FILES]]
            if len(files) > MAX_LISTED_FILES:
                lines.append(f"... and {len(files) - MAX_LISTED_FILES} more; list a sub-folder")
            return "\n".join(lines)

        return str(await asyncio.to_thread(checked, run))

    async def read_file(path: str) -> str:
        """Read a text file of the workspace.

        Args:
            path: The file's path, relative to the workspace (e.g. "notes/plan.md").
        """

        return str(await asyncio.to_thread(checked, lambda: read_text(path)))

    async def write_file(path: str, content: str) -> str:
        """Create a file in the workspace, or replace its content; missing folders are made.

        Args:
            path: The file's path, relative to the workspace (e.g. "report.md").
            content: The whole new content of the file.
        """
        written, size = await asyncio.to_thread(
            checked, lambda: workspace.write(path, content.encode("utf-8"), limits)
        )
        if on_write is not None:
            await on_write(written, size)
        return f"Wrote {size:,} bytes to {written}."

    async def edit_file(path: str, old_text: str, new_text: str) -> str:
        """Replace one exact, unique piece of text in a workspace file.

        Args:
            path: The file's path, relative to the workspace.
            old_text: The text to replace; it must occur exactly once in the file.
            new_text: What to put in its place.
        """

        def run() -> tuple[str, int]:
            text = read_text(path)
            count = text.count(old_text) if old_text else 0
            if count != 1:
                why = "is empty" if not old_text else f"occurs {count} times in {path!r}"
                raise ModelRetry(
                    f"old_text {why}; it must occur exactly once: quote more of the "
                    "surrounding text to make it unique, or read the file first"
                )
            return workspace.write(path, text.replace(old_text, new_text).encode(), limits)

        written, size = await asyncio.to_thread(checked, run)
        if on_write is not None:
            await on_write(written, size)
        return f"Edited {written} ({size:,} bytes now)."

    async def search_files(pattern: str, folder: str = ".", ignore_case: bool = False) -> str:
        """Search the workspace's text files for lines matching a regular expression, like grep.

        Args:
            pattern: A Python regular expression (escape special characters to match them
                literally, e.g. "TODO\\(").
            folder: Search only under this folder, relative to the workspace.
            ignore_case: Match letters of either case.
        """
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ModelRetry(f"{pattern!r} is not a valid regular expression: {exc}") from None

        def run() -> str:
            base = workspace.resolve(folder)
            prefix = "" if base == workspace.root.resolve() else workspace.relative(base) + "/"
            matches: list[str] = []
            for f in workspace.files():
                if not f.path.startswith(prefix) or f.size > limits.max_file_bytes:
                    continue
                try:
                    text = workspace.read_bytes(f.path).decode("utf-8")
                except (UnicodeDecodeError, AccordError):
                    continue  # binary, or gone meanwhile
                for number, line in enumerate(text.splitlines(), 1):
                    if regex.search(line):
                        matches.append(f"{f.path}:{number}: {line[:MAX_MATCH_LINE_CHARS]}")
                        if len(matches) >= MAX_SEARCH_MATCHES:
                            matches.append("... more matches; narrow the pattern or folder")
                            return "\n".join(matches)
            return "\n".join(matches) or f"No line matches {pattern!r}."

        return str(await asyncio.to_thread(checked, run))

    def read_text(path: str) -> str:
        data = workspace.read_bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelRetry(
                f"{path!r} is not UTF-8 text ({len(data):,} bytes of binary data); only text "
                "files can be read or edited"
            ) from None

    return FunctionToolset(
        [list_files, read_file, write_file, edit_file, search_files],
        max_retries=TOOL_RETRIES,
        id=TOOLKIT_NAME,
        instructions=(
            "You have a workspace folder for this execution's files: what you produce "
            "(reports, code, data) belongs there. Paths are relative to it."
        ),
    )
