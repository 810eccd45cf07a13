"""Accord's files are its user's alone: what a command creates is owner-only, and a data
directory left open to others is named at start with the command that closes it."""

import stat
from pathlib import Path

from cli.conftest import Accord


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_secret_key_are_owner_only_and_open_ones_are_named(
    accord: Accord, data_dir: Path
) -> None:
    # Any variable that is set serves as the key: storing one makes the secret key file.
    accord(
        "providers", "create", "work", "--kind", "openai", "--model", "m", "--api-key-env", "PATH"
    )
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "accord.db") == 0o600
    assert mode(data_dir / "secret.key") == 0o600
    for journal in data_dir.glob("accord.db-*"):
        assert mode(journal) == 0o600, journal

    quiet = accord("agents", "list")
    assert "other users can read" not in quiet.stderr

    (data_dir / "accord.db").chmod(0o644)
    warned = accord("agents", "list")
    assert f"{data_dir / 'accord.db'} (644)" in warned.stderr
    assert "chmod go-rwx" in warned.stderr
