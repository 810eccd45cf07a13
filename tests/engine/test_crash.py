"""Issue 3 item 5: executions survive kill -9 at random moments, and nothing runs twice.

A subprocess runs pipeline, parallel and recursive executions with a performer that logs
every finished model call to a side file. The test kills it with SIGKILL several times at
random moments, restarts it, and checks the outcome from the database and the log.
"""

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from accord.storage.db import Database
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import workflow_executions

from .conftest import add_agents, add_workflow, steps

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 5


def launch(db_url: str, state: Path, log: Path, starts: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ACCORD_DBOS_LOG_LEVEL": "ERROR"}
    return subprocess.Popen(
        [sys.executable, str(WORKER), db_url, str(state), str(log), *starts],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_executions_survive_repeated_kill_9(tmp_path: Path) -> None:
    rng = random.Random()
    db_url = f"sqlite:///{tmp_path / 'accord.db'}"
    db = Database(db_url)
    db.upgrade()
    with db.session() as s:
        user_id = UserRepository(s).create(email="crash@example.test", display_name="C").id
    dev, helper = add_agents(db, user_id, ["developer", "helper"])
    team = [dev, helper]
    pipeline = add_workflow(db, user_id, team, steps(*[f"p{i}" for i in range(8)]))
    middle = [f"w{i}" for i in range(6)]
    parallel = add_workflow(
        db,
        user_id,
        team,
        [*steps("plan"), *steps(*middle, dependsOn=["plan"]), *steps("merge", dependsOn=middle)],
        workflow_type="parallel",
        maxConcurrency=3,
    )
    inner = add_workflow(db, user_id, team, steps("i1", "i2", "i3"))
    recursive = add_workflow(
        db,
        user_id,
        team,
        [
            *steps("lead"),
            {"id": "nested", "name": "Nested", "dependsOn": ["lead"], "subWorkflowId": inner},
            *steps("wrap", dependsOn=["nested"]),
        ],
        workflow_type="recursive",
    )
    db.dispose()
    log = tmp_path / "calls.log"
    starts = [f"{w}:{user_id}" for w in (pipeline, parallel, recursive)]

    kills = 0
    for _ in range(KILLS):
        worker = launch(db_url, tmp_path, log, starts)
        starts = []  # later runs only recover
        assert worker.stdout is not None
        if worker.stdout.readline() != b"ready\n":  # started (and recovered): now kill it
            break
        time.sleep(rng.uniform(0.05, 0.8))
        if worker.poll() is not None:
            break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    worker = launch(db_url, tmp_path, log, [])
    worker.communicate(timeout=120)
    assert worker.returncode == 0
    assert kills >= 3, "the executions ended before the test could kill them"

    db = Database(db_url)
    with db.session() as s:
        ids = s.execute(select(workflow_executions.c.id)).scalars().all()
        executions = [ExecutionRepository(s).get(i) for i in ids]
        runs = {e.id: StepRunRepository(s).list(e.id) for e in executions}
    assert len([e for e in executions if e.parent_execution_id is None]) == 3
    assert len(executions) == 3 + 3  # two delegations and one sub-workflow
    entries = [line.split() for line in log.read_text().splitlines()]
    calls = collections.Counter(key for kind, key, _ in entries if kind == "call")
    for execution in executions:
        assert execution.status == "completed", execution.error_message
        completed = [r for r in runs[execution.id] if r.status == "completed"]
        assert len(completed) == len({r.step_id for r in runs[execution.id]})
        for run in completed:
            if run.step_id == "nested":
                continue  # runs a sub-workflow, not a model call
            key = f"{execution.id}:{run.step_id}:{run.attempt}"
            assert calls[key] >= 1, f"{key} completed without its model call"
            # A call whose result was recorded never runs again. A call cut off by kill -9
            # before its result was recorded runs again after the restart (at least once is
            # all anyone can promise for work in flight), so each kill can cost a re-run.
            # A re-run is by the next process, never a second run inside one.
            recorded = False
            callers = []
            for kind, logged, pid in entries:
                if logged == key:
                    assert not (kind == "call" and recorded), f"{key} ran again after recording"
                    recorded = recorded or kind == "recorded"
                    callers += [pid] if kind == "call" else []
            assert recorded, f"{key} completed but its recorded result was never used"
            assert len(callers) == len(set(callers)), f"{key} ran twice in one process"
            assert run.output["data"]["step"] == run.step_id
            assert execution.step_results[run.step_id]["data"]["step"] == run.step_id
    known = {f"{e.id}:{r.step_id}:{r.attempt}" for e in executions for r in runs[e.id]}
    assert set(calls) <= known
    print(f"{kills} kills; {sum(calls.values())} model calls for {len(known)} attempts")
