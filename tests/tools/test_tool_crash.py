"""A tool call recorded before a kill -9 never runs again: its side effects are counted in
a file by the MCP server itself."""

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.tools.testing import counting_server
from tests.support import wait_for

WORKER = Path(__file__).with_name("tool_crash_worker.py")
CALLS = 6


def launch(db_url: str, tmp: Path, starts: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), db_url, str(tmp), str(tmp / "workspaces"), *starts],
        env={**os.environ, "ACCORD_DBOS_LOG_LEVEL": "ERROR"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def notes(counter: Path) -> list[str]:
    return counter.read_text().splitlines() if counter.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_recorded_tool_call_never_runs_again_after_kill_9(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db_url = (
        f"sqlite:///{tmp_path / 'accord.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    counter = tmp_path / "notes.txt"
    db = Database(db_url)
    db.upgrade()
    with db.session() as s:
        user_id = UserRepository(s).create(email="tools@example.test", display_name="T").id
        agent = AgentRepository(s).create(
            user_id=user_id, name="Noa", role="note taker", tools=["notes"]
        )
        workflow = WorkflowRepository(s).create(
            user_id,
            CreateWorkflowRequest(
                name="Notes",
                description="",
                participating_agents=[agent.id],
                configuration=WorkflowConfiguration.model_validate(
                    {
                        "steps": [{"id": "take", "name": "Take notes"}],
                        "mcpServers": {"notes": counting_server(counter).to_json_dict()},
                    }
                ),
            ),
        )
    db.dispose()

    worker = launch(db_url, tmp_path, [f"{workflow.id}:{user_id}"])
    assert worker.stdout is not None and worker.stdout.readline() == b"ready\n"
    wait_for("two notes", lambda: len(notes(counter)) >= 2, timeout=60, every=0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    before = notes(counter)
    time.sleep(0.2)

    worker = launch(db_url, tmp_path, [])
    worker.communicate(timeout=120)
    assert worker.returncode == 0

    db = Database(db_url)
    with db.session() as s:
        [execution] = ExecutionRepository(s).list_for_workflow(workflow.id, user_id=user_id)
    assert execution.status == "completed", execution.error_message
    after = notes(counter)
    counts = collections.Counter(after)
    assert set(counts) == {f"call {i}" for i in range(1, CALLS + 1)}
    # Every note written before the kill, but the last (whose call may have been cut off
    # before its result was recorded), was recorded: none of those ran again.
    for note in before[:-1]:
        assert counts[note] == 1, f"{note} ran again after the restart: {after}"
    assert sum(counts.values()) - CALLS <= 1
    assert execution.usage.tool_calls == CALLS
