"""Distributed mode as a team deploys it: the real `accord serve --api-only` and two real
`accord worker` processes on a Postgres database of their own, the agent team on the offline
model, driven only through the HTTP API.

The server takes the start and queues the attempts; the workers run every step, including
the review's rework and the delegated sub-tasks (child executions), and everything they do is
visible through the server: step runs, interactions, metrics and the live event stream.
Each worker takes one attempt at a time: a step waiting for its delegated sub-task must not
keep that sub-task from running.
"""

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import api_when_serving, free_port, wait_for

from accord.engine.testing import stop_all
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from tests.cli.conftest import ACCORD, accord_env

TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def fleet(fresh_postgres_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The server and two workers, a user with an API token, and the workers' executor IDs."""
    db = Database(fresh_postgres_url)
    db.upgrade()
    with db.session() as s:
        user_id = UserRepository(s).create(email="team@example.test", display_name="Team").id
        _, token = TokenRepository(s).create(user_id=user_id, name="workers test")
    db.dispose()
    env = accord_env(tmp_path / "data") | {
        "ACCORD_DATABASE_URL": fresh_postgres_url,
        "ACCORD_WORKER_CONCURRENCY": "1",
        "ACCORD_DBOS_LOG_LEVEL": "ERROR",
    }
    port = free_port()
    processes: dict[str, subprocess.Popen[str]] = {}

    def start(name: str, *args: str) -> subprocess.Popen[str]:
        processes[name] = subprocess.Popen(
            [ACCORD, *args],
            env=env,
            cwd=tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / f"{name}.err").open("w"),
        )
        return processes[name]

    try:
        start("server", "serve", "--api-only", "--port", str(port))
        workers = [start(f"worker-{n}", "worker") for n in (1, 2)]
        executor_ids = []
        for worker in workers:
            # "Accord worker <executor ID> is taking step attempts (at most 1 at once)."
            line = worker.stdout.readline()
            found = re.search(r"Accord worker (\S+) is taking step attempts", line)
            assert found, f"worker did not start: {line!r}"
            executor_ids.append(found.group(1))
        api = api_when_serving(port, token, timeout=30)
        yield {"api": api, "workers": workers, "executor_ids": executor_ids}
        api.close()
    finally:
        stop_all(processes.values())


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def sse_events(api: httpx.Client, execution_id: str) -> list[dict[str, Any]]:
    """The execution's event stream from its first event, up to its final status (which has
    been written: an open stream never ends by itself)."""
    return [e for e in sse_frames(api, execution_id) if e["kind"] != "text.delta"]


def sse_frames(api: httpx.Client, execution_id: str) -> list[dict[str, Any]]:
    """As `sse_events`, with the text deltas sent live between them."""
    events = []
    with api.stream("GET", f"/executions/{execution_id}/events", timeout=30) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            events.append(event)
            if event["kind"] == "execution.status" and event["data"]["status"] in TERMINAL:
                return events
    raise AssertionError("the event stream ended before the execution did")


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_run_a_system_template_with_the_agent_team(fleet: dict[str, Any]) -> None:
    api: httpx.Client = fleet["api"]
    workers: set[str] = set(fleet["executor_ids"])
    assert len(workers) == 2, "the two workers share an executor ID"

    # The offline model, told to delegate every step, ask a teammate, and have every first
    # review ask for changes: the team's whole repertoire, on the workers.
    provider = created(
        api.post(
            "/providers",
            json={
                "name": "offline-team",
                "kind": "offline",
                "defaultModel": "accord-offline",
                "settings": {"delegateRate": 1.0, "questionRate": 1.0, "changeRequestRate": 1.0},
            },
        )
    )
    team = {
        role: created(
            api.post(
                "/agents",
                json={
                    "name": name,
                    "role": role,
                    "skills": skills,
                    "llmProviderId": provider["id"],
                },
            )
        )["id"]
        for name, role, skills in [
            ("Dev", "developer", ["debugging", "python"]),
            ("Tess", "tester", ["testing"]),
        ]
    }
    [template] = [t for t in api.get("/templates").json() if t["systemKey"] == "bug-investigation"]
    workflow = created(
        api.post(
            f"/templates/{template['id']}/workflows",
            json={
                "participatingAgents": list(team.values()),
                "roleAssignments": team,
                "coordinatorAgentId": team["developer"],
            },
        )
    )
    configuration = workflow["configuration"]
    # A sub-task delegates once more, and its own sub-task no further: a worker's one slot
    # is taken by the step, waiting for its sub-task, and the other's by the sub-task, waiting
    # for its own, which must not wait for a free slot.
    configuration["constraints"]["maxDepth"] = 2
    created(api.patch(f"/workflows/{workflow['id']}", json={"configuration": configuration}))

    started = created(
        api.post(
            f"/workflows/{workflow['id']}/executions",
            json={"inputs": {"bug": "the rate limiter lets bursts through"}},
        )
    )

    # Watched live from the start: served by the server, written by the workers.
    frames = sse_frames(api, started["id"])
    events = [e for e in frames if e["kind"] != "text.delta"]

    def ended() -> dict[str, Any] | None:
        execution = api.get(f"/executions/{started['id']}").json()
        return execution if execution["status"] in TERMINAL else None

    execution = wait_for("the execution to end", ended, timeout=40, every=0.2)
    assert execution["status"] == "completed", execution.get("errorMessage")

    # Every step completed, each attempt on a worker; the review sent `fix` back once.
    runs = execution["stepRuns"]
    assert {r["executorId"] for r in runs} <= workers
    latest = {r["stepId"]: r for r in sorted(runs, key=lambda r: r["attempt"])}
    assert set(latest) == {"reproduce", "diagnose", "fix"}
    assert all(r["status"] == "completed" for r in latest.values())
    fix = sorted((r for r in runs if r["stepId"] == "fix"), key=lambda r: r["attempt"])
    assert [r["status"] for r in fix] == ["failed", "completed"]
    assert fix[0]["error"] == "the review asked for changes"

    # The collaboration, recorded: questions answered, knowledge shared, review feedback,
    # and sub-tasks delegated as child executions that workers ran to completion.
    interactions = api.get(f"/executions/{started['id']}/interactions").json()
    kinds = {i["interactionType"] for i in interactions}
    assert {"question", "task_delegation", "knowledge_sharing", "feedback"} <= kinds
    questions = [i for i in interactions if i["interactionType"] == "question"]
    assert all(q["responseStatus"] == "answered" for q in questions)
    delegated = [
        i["responseData"]["executionId"]
        for i in interactions
        if i["interactionType"] == "task_delegation" and (i.get("responseData") or {})
    ]
    assert delegated, "no step delegated a sub-task"
    for child_id in delegated:
        child = api.get(f"/executions/{child_id}").json()
        assert child["status"] == "completed", child.get("errorMessage")
        assert child["parentExecutionId"] == started["id"]
        assert {r["executorId"] for r in child["stepRuns"]} <= workers

    def with_sub_tasks(execution_id: str) -> list[dict[str, Any]]:
        """An execution's interactions and those of the sub-tasks it delegated, and theirs."""
        own: list[dict[str, Any]] = api.get(f"/executions/{execution_id}/interactions").json()
        nested = [
            i["responseData"]["executionId"]
            for i in own
            if i["interactionType"] == "task_delegation"
            and (i.get("responseData") or {}).get("executionId")
        ]
        return own + [i for child in nested for i in with_sub_tasks(child)]

    # The metrics count a run with its sub-tasks, as `accord run --json` does.
    metrics = api.get(f"/executions/{started['id']}/metrics").json()
    assert metrics["totalInteractions"] == len(with_sub_tasks(started["id"]))
    assert metrics["knowledgeItemsCreated"] > 0
    assert execution["usage"]["modelCalls"] > 0

    # The live stream showed the workers' progress as it happened, in order.
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    completed_steps = {e["stepId"] for e in events if e["kind"] == "step.completed"}
    assert completed_steps == {"reproduce", "diagnose", "fix"}
    assert any(e["kind"] == "interaction.created" for e in events)

    # What the agents wrote on the workers reached the server's watcher as they wrote it
    # (through Postgres NOTIFY): each step's text, tagged with who wrote it.
    names = {team["developer"]: "Dev", team["tester"]: "Tess"}
    for step_id in ("reproduce", "diagnose", "fix"):
        kinds = [(f["kind"], f.get("stepId")) for f in frames]
        written = [f for f in frames if f["kind"] == "text.delta" and f["stepId"] == step_id]
        assert written, f"no text of {step_id} reached the server"
        # Sent as written, so before the step's result was recorded (and, as deltas skip the
        # event log's settling, possibly before its start: the coordinator writes its choice
        # of agent before the step starts).
        done = len(kinds) - 1 - kinds[::-1].index(("step.completed", step_id))
        assert kinds.index(("text.delta", step_id)) < done
        assert {d["executionId"] for d in written} == {started["id"]}
        assert {(names[d["agentId"]], d["agentName"]) for d in written} <= {
            ("Dev", "Dev"),
            ("Tess", "Tess"),
        }

    # Ctrl-C (SIGTERM) stops a worker cleanly.
    for worker in fleet["workers"]:
        worker.terminate()
    assert [w.wait(timeout=20) for w in fleet["workers"]] == [0, 0]


def test_a_schedule_fires_once_per_tick_across_a_server_and_two_workers(
    fleet: dict[str, Any],
) -> None:
    """Every process runs DBOS's scheduler; each tick must still start one execution."""
    api: httpx.Client = fleet["api"]
    agent = created(api.post("/agents", json={"name": "Clock", "role": "timekeeper"}))
    workflow = created(
        api.post(
            "/workflows",
            json={
                "name": "Every second",
                "description": "",
                "participatingAgents": [agent["id"]],
                "configuration": {"steps": [{"id": "tick", "name": "Note the time"}]},
            },
        )
    )
    schedule = created(
        api.post(f"/workflows/{workflow['id']}/schedules", json={"every": "1s", "overlap": "queue"})
    )

    def runs() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = created(api.get(f"/workflows/{workflow['id']}/executions"))
        return found

    wait_for("four scheduled runs", lambda: len(runs()) >= 4, timeout=60)
    created(api.post(f"/schedules/{schedule['id']}/pause"))

    seen: list[int] = []

    def settled() -> list[dict[str, Any]] | None:
        """Every queued tick has run: all runs ended, and no new one for three seconds."""
        now = runs()
        seen.append(len(now))
        quiet = len(seen) > 30 and seen[-30] == len(now)
        return now if quiet and all(r["status"] in TERMINAL for r in now) else None

    final = wait_for("the queued ticks to run", settled, timeout=90)
    ticks = sorted(r["executionContext"]["scheduledAt"] for r in final)
    assert len(ticks) == len(set(ticks)), f"a tick ran twice: {ticks}"
    seconds = [int(datetime.fromisoformat(t).timestamp()) for t in ticks]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), (
        f"a tick was lost: {ticks}"
    )
    assert {r["status"] for r in final} == {"completed"}
    assert {r["triggerReason"] for r in final} == {"scheduled"}
