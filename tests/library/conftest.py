"""Accord as a Python library: runs in this process (or a script's) on a data directory of
the test's own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The local data directory (SQLite database, engine state) of this test's runs."""
    for name in [k for k in os.environ if k.startswith("ACCORD_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "data"
    monkeypatch.setenv("ACCORD_DATA_DIR", str(path))
    monkeypatch.setenv("ACCORD_DBOS_LOG_LEVEL", "ERROR")
    return path


def script_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    return env | {"ACCORD_DATA_DIR": str(data_dir), "ACCORD_DBOS_LOG_LEVEL": "ERROR"} | extra


def run_script(
    path: Path, data_dir: Path, *, cwd: Path, timeout: float = 180, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python path` as a user runs it, asserting that it exits 0."""
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=script_env(data_dir, **env),
        timeout=timeout,
    )
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout}\n{done.stderr}"
    return done
