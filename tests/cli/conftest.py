"""Run the real `accord` command as a subprocess, against its own data directory."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ACCORD = str(Path(sys.executable).parent / "accord")

Accord = Callable[..., subprocess.CompletedProcess[str]]


def accord_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env |= {"ACCORD_DATA_DIR": str(data_dir), "COLUMNS": "200", "NO_COLOR": "1", "CI": "true"}
    return env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def accord(data_dir: Path, tmp_path: Path) -> Accord:
    """`accord(*args, ok=True)` runs the command in a fresh data directory (shared by the calls
    of one test); `ok=True` asserts exit code 0 and shows its output if not."""

    def run(*args: str, ok: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [ACCORD, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=accord_env(data_dir),
            timeout=timeout,
        )
        if ok:
            assert done.returncode == 0, f"accord {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    return run


def json_of(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def slow_provider(
    accord: Accord, latency_s: float, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`accord providers create slow`: the offline model, each call taking `latency_s`, so a
    test can act while a run is still going."""
    return accord(
        "providers",
        "create",
        "slow",
        "--kind",
        "offline",
        "--model",
        "accord-offline",
        "--setting",
        f"latencySeconds={latency_s:g}",
        *extra,
    )
