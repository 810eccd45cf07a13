"""Issue 17 item 1: a disk that fills during `accord run` gives one clear message and a
clean exit code, never a hang or a traceback; once there is room, the run resumes.

The disk is filled without privileges: the command runs under a file size limit
(RLIMIT_FSIZE), so its database cannot grow, as on a full disk (Python ignores SIGXFSZ, so
the write fails instead of killing the process)."""

import json
import resource
import subprocess
from pathlib import Path

from accord.storage.faults import EXIT_STORAGE_FULL

from .conftest import ACCORD, Accord, accord_env

PIPELINE = """
name: Release notes
workflowType: pipeline
agents:
  - {name: Ada, role: writer}
steps:
  - {id: gather, name: Gather the changes, instructions: List the changes.}
  - {id: draft, name: Draft the notes, instructions: Write the notes.}
  - {id: polish, name: Polish them, instructions: Tighten the wording.}
"""


def run_limited(
    args: list[str], data_dir: Path, cwd: Path, limit: int
) -> "subprocess.CompletedProcess[str]":
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [ACCORD, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=accord_env(data_dir),
        timeout=120,  # never hangs
        preexec_fn=cap,
    )


def test_a_full_disk_stops_accord_run_cleanly_and_the_run_resumes_later(
    accord: Accord, data_dir: Path, tmp_path: Path
) -> None:
    accord("agents", "list")  # the database, made and migrated
    database = data_dir / "accord.db"
    workflow = str(tmp_path / "notes.yaml")
    Path(workflow).write_text(PIPELINE)

    # Room to start, not to finish; then, run again while still full, no room at all.
    for limit in (database.stat().st_size + 35_000, 8192):
        full = run_limited(["run", workflow], data_dir, tmp_path, limit)
        assert full.returncode == EXIT_STORAGE_FULL, full.stdout + full.stderr
        message = " ".join(full.stderr.split())
        assert f"Cannot write to {database}" in message
        assert "free on that disk" in message and "run the command again" in message
        assert message.count("error:") == 1
        assert "Traceback" not in full.stderr and "BEGIN" not in full.stderr

    done = accord("run", "--json", workflow)
    report = json.loads(done.stdout)
    assert report["status"] == "completed"
    assert report["executionNumber"] == 1  # the stopped execution, resumed
    assert all(step["status"] == "completed" for step in report["steps"].values())
