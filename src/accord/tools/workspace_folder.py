"""An execution's workspace folder: where it is, and access that never leaves it.

Every execution works in its own folder: `<data dir>/workspaces/<execution id>` unless the
user named one (per workflow, or per run). A child execution (a sub-workflow, a delegated
sub-task) works in `<parent's folder>/children/<child id>`, so whatever a team's helpers
produce is inside, and listed with, the parent's files.

Paths come from models, so every one is checked here: a relative path that stays inside the
folder once `..` and symlinks are resolved is accepted, anything else is refused with a
message the model can act on. Writes never follow a symlink at the last component.
"""

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy.orm import Session

from accord.domain.errors import AccordError, InvalidInput
from accord.domain.workspace import WorkspaceFile, workspace_path_problem
from accord.storage.db import data_dir
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.workspace_files import FileProvenance, WorkspaceFileRepository

WORKSPACES_DIR = "workspaces"
CHILDREN_DIR = "children"
"""The sub-folder of a workspace that holds its child executions' workspaces."""
FOLDER_MODE = 0o700
FILE_MODE = 0o600

WORKSPACE_ROOTS_ENV = "ACCORD_WORKSPACE_ROOTS"
"""Folders (separated by the OS path separator) that named workspaces must be inside: set it
on a server several people use, so that nobody makes it write where they please."""
MAX_FILE_BYTES_ENV = "ACCORD_WORKSPACE_MAX_FILE_BYTES"
MAX_TOTAL_BYTES_ENV = "ACCORD_WORKSPACE_MAX_TOTAL_BYTES"
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_TOTAL_BYTES = 200 * 1024 * 1024


class PathRefused(AccordError):
    """A path that is not a file inside the workspace (absolute, `..` out, a symlink out)."""

    code = "path_refused"


class WorkspaceFull(AccordError):
    """A write that would pass the file or total size limit."""

    code = "workspace_full"


@dataclass(frozen=True)
class WorkspaceLimits:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES

    @classmethod
    def from_env(cls) -> "WorkspaceLimits":
        """`ACCORD_WORKSPACE_MAX_FILE_BYTES` / `..._TOTAL_BYTES`, else the defaults."""
        return cls(
            max_file_bytes=_env_bytes(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES),
            max_total_bytes=_env_bytes(MAX_TOTAL_BYTES_ENV, DEFAULT_MAX_TOTAL_BYTES),
        )


def _env_bytes(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise AccordError(f"{name}={raw!r} is not a positive number of bytes")
    return value


@dataclass(frozen=True)
class FoundFile:
    path: str
    """Relative to the workspace, `/`-separated."""
    size: int
    modified_at: float


@dataclass(frozen=True)
class Workspace:
    """One workspace folder. Nothing here creates it except `ensure`."""

    root: Path

    def ensure(self) -> "Workspace":
        """Create the folder (and missing parents), readable by its owner only."""
        try:
            self.root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise AccordError(
                f"cannot create the workspace folder {str(self.root)!r}: {exc.strerror}"
            ) from None
        if not self.root.is_dir():
            raise AccordError(f"the workspace {str(self.root)!r} is not a folder")
        return self

    def resolve(self, relative: str) -> Path:
        """The real path of `relative` inside the folder, or PathRefused saying why not."""
        text = relative.strip()
        if not text or text in (".", "./"):
            return self.root.resolve()
        if "\0" in text:
            raise PathRefused(f"{relative!r} holds a NUL character; give a plain relative path")
        pure = PurePosixPath(text.replace("\\", "/"))
        if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
            raise PathRefused(
                f"{relative!r} is an absolute path; paths are relative to the workspace "
                "folder, e.g. 'report.md' or 'src/main.py'"
            )
        root = self.root.resolve()
        target = (root / pure).resolve()
        if not target.is_relative_to(root):
            via = "a symlink" if ".." not in pure.parts else "'..'"
            raise PathRefused(
                f"{relative!r} leads outside the workspace (through {via}); only files inside "
                "it can be used: give a path relative to the workspace without leaving it"
            )
        return target

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root.resolve()).as_posix()

    def files(self) -> list[FoundFile]:
        """Every regular file inside, sorted by path; symlinks are not followed (one that
        points out would otherwise expose what is outside)."""
        root = self.root.resolve()
        if not root.is_dir():
            return []
        found = []
        for folder, dirs, names in os.walk(root, followlinks=False):
            dirs.sort()
            for name in names:
                full = Path(folder) / name
                try:
                    stat = full.lstat()
                except OSError:
                    continue  # removed meanwhile
                if full.is_symlink() or not full.is_file():
                    continue
                found.append(
                    FoundFile(full.relative_to(root).as_posix(), stat.st_size, stat.st_mtime)
                )
        return sorted(found, key=lambda f: f.path)

    def total_size(self) -> int:
        return sum(f.size for f in self.files())

    def write(self, relative: str, data: bytes, limits: WorkspaceLimits) -> tuple[str, int]:
        """Write (replace) a file, making its folders; returns its relative path and size."""
        target = self.resolve(relative)
        if target == self.root.resolve():
            raise PathRefused("give the path of a file to write, e.g. 'report.md'")
        if target.is_dir():
            raise PathRefused(f"{relative!r} is a folder; give a file's path")
        if len(data) > limits.max_file_bytes:
            raise WorkspaceFull(
                f"{len(data):,} bytes is more than the {limits.max_file_bytes:,} bytes a "
                "workspace file may hold; write less, or split it into several files"
            )
        previous = target.stat().st_size if target.is_file() else 0
        total = self.total_size() - previous + len(data)
        if total > limits.max_total_bytes:
            raise WorkspaceFull(
                f"this write would bring the workspace to {total:,} bytes, over its limit of "
                f"{limits.max_total_bytes:,}; remove or shorten files first"
            )
        self.ensure()
        for parent in reversed(target.relative_to(self.root.resolve()).parents):
            folder = self.root.resolve() / parent
            if not folder.is_dir():
                folder.mkdir(mode=FOLDER_MODE)
        self.resolve(relative)  # a folder swapped for a symlink meanwhile is refused
        fd = os.open(
            target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), FILE_MODE
        )
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return self.relative(target), len(data)

    def read_bytes(self, relative: str) -> bytes:
        target = self.resolve(relative)
        if not target.is_file():
            raise PathRefused(
                f"there is no file {relative!r} in the workspace; list the files to see what "
                "there is"
            )
        return target.read_bytes()

    def write_zip(self, out: IO[bytes]) -> int:
        """Every file into a zip archive on `out`; returns how many."""
        root = self.root.resolve()
        files = self.files()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for f in files:
                archive.write(root / f.path, arcname=f.path)
        return len(files)


def locate_workspace(
    session: Session, execution_id: str, *, workspaces: Path | None = None
) -> Workspace:
    """The execution's workspace folder (created or not). `workspaces`: where executions
    that name no folder get theirs (default: `<data dir>/workspaces`)."""
    lineage = ExecutionRepository(session).workspace_lineage(execution_id)
    top_id, named = lineage[-1]
    root = Path(named) if named else (workspaces or data_dir() / WORKSPACES_DIR) / top_id
    for child_id, _ in reversed(lineage[:-1]):
        root = root / CHILDREN_DIR / child_id
    return Workspace(root)


def open_workspace(
    session: Session, execution_id: str, *, workspaces: Path | None = None
) -> Workspace:
    """The execution's workspace folder, created (owner-only) if it does not exist yet: what
    the tools runtime works in, and what `${WORKSPACE}` expands to."""
    return locate_workspace(session, execution_id, workspaces=workspaces).ensure()


def descendant_prefixes(session: Session, execution_id: str) -> Iterator[tuple[str, str]]:
    """(execution ID, path prefix) of the execution and every child execution working inside
    its folder, so that files a child wrote are credited to the child's step and agent."""
    pending = [(execution_id, "")]
    repo = ExecutionRepository(session)
    while pending:
        current, prefix = pending.pop()
        yield current, prefix
        for child in repo.children(current):
            pending.append((child.id, f"{prefix}{CHILDREN_DIR}/{child.id}/"))


def named_folder(path: str, *, field: str) -> str:
    """A folder a user names for a workspace, checked and made absolute (`~` expanded), and
    created so that a folder that cannot be is refused when the run starts, not mid-way."""
    if problem := workspace_path_problem(path, field):
        raise InvalidInput([problem])
    folder = Path(os.path.normpath(Path(path).expanduser()))
    roots = [
        Path(r).expanduser() for r in os.environ.get(WORKSPACE_ROOTS_ENV, "").split(os.pathsep) if r
    ]
    if roots and not any(folder.resolve().is_relative_to(r.resolve()) for r in roots):
        raise InvalidInput.of(
            field,
            f"{str(folder)!r} is outside the folders workspaces may be in on this server",
            f"name a folder inside {' or '.join(str(r) for r in roots)} ({WORKSPACE_ROOTS_ENV})",
        )
    try:
        Workspace(folder).ensure()
    except AccordError as exc:
        raise InvalidInput.of(field, exc.message, "name a folder you can write to") from None
    return str(folder)


def list_files(session: Session, execution_id: str) -> list[WorkspaceFile]:
    """The files in the execution's workspace (its children's included), each with the step,
    attempt and agent that last wrote it through the toolkit when known. A file changed
    since that write (by a person, an MCP server) keeps its recorded author only while its
    size still matches."""
    authors: dict[str, FileProvenance] = {}
    files_repo = WorkspaceFileRepository(session)
    for owner_id, prefix in descendant_prefixes(session, execution_id):
        for row in files_repo.list(owner_id):
            authors[prefix + row.path] = row
    listed = []
    for found in locate_workspace(session, execution_id).files():
        author = authors.get(found.path)
        if author is not None and author.size != found.size:
            author = None
        listed.append(
            WorkspaceFile(
                path=found.path,
                size=found.size,
                step_id=author.step_id if author else None,
                attempt=author.attempt if author else None,
                agent_id=author.agent_id if author else None,
                agent_name=author.agent_name if author else None,
                modified_at=datetime.fromtimestamp(found.modified_at, UTC),
            )
        )
    return listed
