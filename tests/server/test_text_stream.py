"""What agents write reaches SSE watchers while the attempt runs (issue 18): a real server
running the agent team on the offline model, read by a real SSE client."""

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from accord.storage.db import Database
from accord.team.runtime import AgentTeam
from server.conftest import ApiUser, LiveServer, _live_server, make_user
from server.test_events import iter_frames

TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server running executions in-process with the agent team (DBOS allows one engine
    per process: module-scoped, like `engine_server`)."""
    state = tmp_path_factory.mktemp("streaming")
    url = f"sqlite:///{state / 'accord.db'}"
    team = AgentTeam(Database(url), workspaces=state / "workspaces")
    yield from _live_server(url, team, state_dir=state)


def slow_offline_workflow(user: ApiUser, latency: float) -> dict:
    """One step by Ada on the offline model, each of its model calls taking `latency` s."""
    provider = user.api.post(
        "/providers",
        json={
            "name": "Slow offline",
            "kind": "offline",
            "defaultModel": "accord-offline",
            "settings": {"latencySeconds": latency, "questionRate": 0, "feedbackRate": 0},
        },
    ).json()
    ada = user.api.post(
        "/agents", json={"name": "Ada", "role": "writer", "llmProviderId": provider["id"]}
    ).json()
    response = user.api.post(
        "/workflows",
        json={
            "name": "Notes",
            "description": "",
            "participatingAgents": [ada["id"]],
            "configuration": {
                "steps": [
                    {
                        "id": "notes",
                        "name": "Write the release notes",
                        "instructions": "List what changed in version 2.4 for support.",
                    }
                ]
            },
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def frames_until_done(
    user: ApiUser, path: str, run: dict, out: list[dict], opened: threading.Event | None = None
) -> None:
    """Every frame of the stream at `path`, until the final status of execution `run["id"]`
    (filled in once it has started)."""
    with user.api.stream("GET", path, timeout=httpx.Timeout(10, read=30)) as response:
        assert response.status_code == 200
        if opened is not None:
            opened.set()
        for frame in iter_frames(response):
            out.append(frame)
            data = json.loads(frame["data"])
            if (
                frame.get("event") == "execution.status"
                and data["executionId"] == run.get("id")
                and data["data"]["status"] in TERMINAL
            ):
                return


def test_watchers_see_the_text_of_a_running_step_grow(team_server: LiveServer) -> None:
    user = make_user(team_server)
    workflow = slow_offline_workflow(user, latency=0.8)
    # The user's stream starts "from now": it is open before the run starts.
    run: dict = {}
    mine: list[dict] = []
    opened = threading.Event()
    watcher = threading.Thread(target=frames_until_done, args=(user, "/events", run, mine, opened))
    watcher.start()
    assert opened.wait(10)
    started = user.api.post(f"/workflows/{workflow['id']}/executions", json={}).json()
    run["id"] = started["id"]
    frames: list[dict] = []
    frames_until_done(user, f"/executions/{started['id']}/events", run, frames)
    watcher.join(timeout=30)

    kinds = [f["event"] for f in frames]
    deltas = [json.loads(f["data"]) for f in frames if f["event"] == "text.delta"]
    assert deltas, f"no text.delta frame among {kinds}"
    # Sent while the step ran, before its result was recorded, without an event ID (a resuming
    # browser's Last-Event-ID stays the last recorded event's).
    last = len(kinds) - 1 - kinds[::-1].index("text.delta")
    assert last < kinds.index("step.completed")
    assert all("id" not in f for f in frames if f["event"] == "text.delta")
    assert all("id" in f for f in frames if f["event"] != "text.delta")

    execution = user.api.get(f"/executions/{started['id']}").json()
    [run] = execution["stepRuns"]
    assert {
        (d["executionId"], d["userId"], d["stepId"], d["attempt"], d["agentId"], d["agentName"])
        for d in deltas
    } == {(started["id"], user.id, "notes", 1, run["agentId"], "Ada")}
    # The answer's text, grown piece by piece, is the recorded result's.
    answer = [d for d in deltas if d["call"] == max(d["call"] for d in deltas)]
    assert len(answer) > 1
    assert [d["offset"] for d in answer] == [
        sum(len(d["text"]) for d in answer[:i]) for i in range(len(answer))
    ]
    written = "".join(d["text"] for d in answer)
    assert written.startswith(run["output"]["summary"] + "\n\n")

    # The user's stream carried the same deltas.
    assert [json.loads(f["data"]) for f in mine if f["event"] == "text.delta"] == deltas
