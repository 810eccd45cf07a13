"""Issue 8 item 3: one server and three workers on Postgres lose a worker to kill -9.

Real processes on a database of their own: `accord serve --api-only` takes the starts over
HTTP and queues the attempts; three worker processes (`python -m accord.engine.testing`:
`accord worker`'s loop with the engine's test performer) run them. Twenty executions run at
once; one worker is killed mid-attempt. Its attempts must resume on the others within the
failover bound, every execution must complete with the right results, and no completed step
may run again.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from support import api_when_serving, free_port, wait_for

from accord.engine.testing import stop_all
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import step_runs

from .conftest import add_agents, add_workflow, steps

FAILOVER_S = 6.0
STEP_S = 1.0
"""Long enough that the kill lands while the victim holds attempts."""
WORKERS = ["worker-a", "worker-b", "worker-c"]
VICTIM = "worker-b"
EXECUTIONS = 20


@pytest.mark.slow
@pytest.mark.postgres
def test_losing_a_worker_mid_attempt_loses_nothing(fresh_postgres_url: str, tmp_path: Path) -> None:
    db = Database(fresh_postgres_url)
    db.upgrade()
    with db.session() as s:
        user_id = UserRepository(s).create(email="fleet@example.test", display_name="F").id
        _, token = TokenRepository(s).create(user_id=user_id, name="fleet test")
    team = add_agents(db, user_id, ["developer", "reviewer"])
    middle = [f"w{i}" for i in range(6)]
    fan_out = [
        *steps("plan"),
        *steps(*middle, dependsOn=["plan"]),
        *steps("merge", dependsOn=middle),
    ]
    pipeline = steps("p1", "p2", "p3", "p4", "p5")
    shapes = {}
    for n in range(EXECUTIONS):
        if n % 2:
            shapes[add_workflow(db, user_id, team, pipeline)] = pipeline
        else:
            workflow = add_workflow(db, user_id, team, fan_out, workflow_type="parallel")
            shapes[workflow] = fan_out

    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": fresh_postgres_url,
        "ACCORD_DATA_DIR": str(tmp_path),
        "ACCORD_FAILOVER_SECONDS": str(FAILOVER_S),
        "ACCORD_WORKER_CONCURRENCY": "4",
        "ACCORD_DBOS_LOG_LEVEL": "ERROR",
    }
    log = tmp_path / "calls.log"
    port = free_port()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        processes["server"] = subprocess.Popen(
            [sys.executable, "-m", "accord.cli.main", "serve", "--api-only", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "server.err").open("wb"),
        )
        for name in WORKERS:
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "accord.engine.testing", name, str(STEP_S), str(log)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=(tmp_path / f"{name}.err").open("wb"),
            )
        for name in WORKERS:
            assert processes[name].stdout.readline().strip() == b"ready", name
        api = api_when_serving(port, token, timeout=60)
        executions = {}
        for workflow_id in shapes:
            response = api.post(f"/workflows/{workflow_id}/executions", json={})
            assert response.status_code == 201, response.text
            executions[response.json()["id"]] = workflow_id

        def victims_runs() -> list[tuple[str, str, int]]:
            with db.read_session() as s:
                rows = s.execute(
                    select(
                        step_runs.c.execution_id, step_runs.c.step_id, step_runs.c.attempt
                    ).where(step_runs.c.executor_id == VICTIM, step_runs.c.status == "running")
                ).all()
            return [tuple(r) for r in rows]

        # Kill the victim while it holds attempts, once the run has got going.
        wait_for("the victim to hold attempts", lambda: len(victims_runs()) >= 2, timeout=60)
        time.sleep(STEP_S / 2)
        processes[VICTIM].send_signal(signal.SIGKILL)
        processes[VICTIM].wait()
        killed_at = time.monotonic()
        orphaned = victims_runs()
        assert orphaned, "the victim held no attempt when it died"

        def taken_over() -> bool:
            with db.read_session() as s:
                owners = {
                    (r.execution_id, r.step_id, r.attempt): r.executor_id
                    for r in s.execute(
                        select(
                            step_runs.c.execution_id,
                            step_runs.c.step_id,
                            step_runs.c.attempt,
                            step_runs.c.executor_id,
                        )
                    )
                }
            return all(owners[key] != VICTIM for key in orphaned)

        wait_for("another worker to take the orphaned attempts", taken_over, timeout=60)
        handover_s = time.monotonic() - killed_at

        def all_ended() -> bool:
            return all(
                api.get(f"/executions/{e}").json()["status"] in ("completed", "failed", "cancelled")
                for e in executions
            )

        wait_for("every execution to end", all_ended, timeout=120, every=0.5)

        # The live stream works though neither the server nor one process ran the steps.
        first = next(iter(executions))
        kinds = []
        with api.stream("GET", f"/executions/{first}/events", timeout=10) as response:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kinds.append(line.removeprefix("event: "))
                elif line.startswith("data: ") and '"status":"completed"' in line.replace(" ", ""):
                    break
        assert kinds.count("step.completed") == len(shapes[executions[first]])
        assert handover_s <= FAILOVER_S + 2, f"the orphaned attempts waited {handover_s:.1f} s"
        for execution_id, workflow_id in executions.items():
            body = api.get(f"/executions/{execution_id}").json()
            assert body["status"] == "completed", body.get("errorMessage")
            defined = shapes[workflow_id]
            runs = body["stepRuns"]
            # Each step ran once: one attempt, completed; the dead worker's attempts were
            # resumed where they were, not retried as new attempts.
            assert sorted(r["stepId"] for r in runs) == sorted(s["id"] for s in defined)
            assert all(r["status"] == "completed" and r["attempt"] == 1 for r in runs)
            # ...and each result is its own step's, built from its own dependencies' results.
            for n, step in enumerate(defined):
                result = body["stepResults"][step["id"]]
                assert result["data"]["step"] == step["id"]
                # A pipeline step depends on the one before it.
                deps = step.get("dependsOn", [defined[n - 1]["id"]] if n else [])
                assert json.loads(result["output"])["inputs"] == sorted(deps)
    finally:
        stop_all(processes.values())

    # No model call ran again once its result was recorded, whichever process recorded it.
    recorded_at: dict[str, int] = {}
    calls: collections.Counter[str] = collections.Counter()
    for n, line in enumerate(log.read_text().splitlines()):
        kind, key, _pid = line.split()
        if kind == "recorded":
            recorded_at.setdefault(key, n)
        else:
            calls[key] += 1
            assert key not in recorded_at, f"{key} was called again after its result was recorded"
    assert sum(calls.values()) >= sum(len(shapes[w]) for w in executions.values())
