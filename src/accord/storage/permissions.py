"""Accord's files are its owner's: the database, the secret key, workspaces and logs hold
prompts, API keys and the team's work.

What Accord creates is created owner-only (folders 0700, files 0600), and `exposed` finds
what an older version, a copy or a hand-made folder left open to other users, so that the
command line can say so at start instead of leaving it.
"""

import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) owner-only if it does not exist."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create an empty owner-only file if none exists (SQLite then keeps its mode for the
    database's -wal and -shm files)."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    return path


def exposed(paths: Iterable[Path]) -> list[tuple[Path, int]]:
    """Those of `paths` that exist and that other users may read or enter, with their mode."""
    found = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            found.append((path, mode))
    return found


def exposed_data(database_url: str) -> list[tuple[Path, int]]:
    """What of this installation's own files other users may read: the data directory, the
    SQLite database and its journal files, and the secret key."""
    from accord.storage.db import data_dir, sqlite_path  # db creates its files through us

    folder = data_dir()
    candidates = [folder, folder / "secret.key"]
    database = sqlite_path(database_url)
    if database is not None:
        candidates += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return exposed(candidates)


def exposure_warning(found: list[tuple[Path, int]]) -> str:
    paths = " ".join(str(p) for p, _ in found)
    modes = ", ".join(f"{p} ({m:o})" for p, m in found)
    return f"other users can read Accord's data: {modes}; make it yours alone: chmod go-rwx {paths}"
