"""Executions over HTTP with the engine running in the server: start, watch, control."""

import json
import time

import pytest

from server.conftest import ApiUser, LiveServer, make_user
from server.test_events import iter_frames

TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def user(engine_server: LiveServer) -> ApiUser:
    return make_user(engine_server)


def team_workflow(user: ApiUser, *step_ids: str) -> dict:
    agent = user.api.post("/agents", json={"name": "Ada", "role": "developer"}).json()
    steps, previous = [], []
    for step_id in step_ids:
        steps.append({"id": step_id, "name": step_id.title(), "dependsOn": previous})
        previous = [step_id]
    response = user.api.post(
        "/workflows",
        json={
            "name": "Pipeline",
            "description": "",
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": steps},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def wait_for(user: ApiUser, execution_id: str, statuses: set[str], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = user.api.get(f"/executions/{execution_id}").json()
        if execution["status"] in statuses:
            return execution
        time.sleep(0.05)
    raise AssertionError(f"execution stayed {execution['status']}")


def test_an_execution_runs_to_completion_and_shows_its_attempts(user: ApiUser) -> None:
    wf = team_workflow(user, "plan", "build")
    started = user.api.post(f"/workflows/{wf['id']}/executions", json={})
    assert started.status_code == 201, started.text
    execution = started.json()
    assert execution["workflowId"] == wf["id"] and execution["executionNumber"] == 1

    done = wait_for(user, execution["id"], TERMINAL)
    assert done["status"] == "completed"
    assert [(r["stepId"], r["status"], r["attempt"]) for r in done["stepRuns"]] == [
        ("plan", "completed", 1),
        ("build", "completed", 1),
    ]
    assert set(done["stepResults"]) == {"plan", "build"}
    listed = user.api.get(f"/workflows/{wf['id']}/executions").json()
    assert [e["id"] for e in listed] == [execution["id"]]


def test_the_event_stream_shows_a_running_execution_live(user: ApiUser) -> None:
    wf = team_workflow(user, "slow", "after")
    execution = user.api.post(f"/workflows/{wf['id']}/executions").json()
    kinds: list[str] = []
    with user.api.stream("GET", f"/executions/{execution['id']}/events") as response:
        for frame in iter_frames(response):
            kinds.append(frame["event"])
            if frame["event"] == "step.started" and len(kinds) < 4:
                # Live: the first step has started and the execution has not finished.
                current = user.api.get(f"/executions/{execution['id']}").json()
                assert current["status"] == "running"
            status = json.loads(frame["data"])["data"].get("status")
            if frame["event"] == "execution.status" and status in TERMINAL:
                assert status == "completed"
                break
    assert kinds.count("step.started") == 2 and kinds.count("step.completed") == 2


def test_pause_resume_cancel_and_run_again(user: ApiUser) -> None:
    wf = team_workflow(user, "slow", "after")
    execution = user.api.post(f"/workflows/{wf['id']}/executions").json()
    path = f"/executions/{execution['id']}"

    paused = user.api.post(f"{path}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = user.api.post(f"{path}/pause")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "illegal_transition" and error["details"]["current"] == "paused"

    assert user.api.post(f"{path}/resume").json()["status"] == "running"
    assert user.api.post(f"{path}/cancel").json()["status"] == "cancelled"
    late = user.api.post(f"{path}/resume")
    assert late.status_code == 409 and late.json()["error"]["details"]["current"] == "cancelled"

    rerun = user.api.post(f"{path}/rerun")
    assert rerun.status_code == 201
    second = rerun.json()
    assert second["executionNumber"] == 2 and second["id"] != execution["id"]
    assert wait_for(user, second["id"], TERMINAL)["status"] == "completed"
    assert [
        e["executionNumber"] for e in user.api.get(f"/workflows/{wf['id']}/executions").json()
    ] == [2, 1]


def test_another_users_executions_are_not_found(engine_server: LiveServer, user: ApiUser) -> None:
    wf = team_workflow(user, "plan")
    execution = user.api.post(f"/workflows/{wf['id']}/executions").json()
    wait_for(user, execution["id"], TERMINAL)
    intruder = make_user(engine_server, "Mallory")
    for method, path in [
        ("POST", f"/workflows/{wf['id']}/executions"),
        ("GET", f"/workflows/{wf['id']}/executions"),
        ("GET", f"/executions/{execution['id']}"),
        ("POST", f"/executions/{execution['id']}/pause"),
        ("POST", f"/executions/{execution['id']}/rerun"),
        ("GET", f"/executions/{execution['id']}/interactions"),
        ("GET", f"/executions/{execution['id']}/events"),
    ]:
        response = intruder.api.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
    assert len(user.api.get(f"/workflows/{wf['id']}/executions").json()) == 1


def test_a_run_works_in_the_folder_it_names(
    user: ApiUser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per run (`workspace` in the start request), else per workflow, else its own folder;
    a rerun keeps the folder; a relative one or one outside ACCORD_WORKSPACE_ROOTS is a 422."""
    wf = team_workflow(user, "plan")
    named = tmp_path / "named" / "out"
    started = user.api.post(f"/workflows/{wf['id']}/executions", json={"workspace": str(named)})
    assert started.status_code == 201, started.text
    assert oct(named.stat().st_mode & 0o777) == "0o700"
    (named / "result.txt").write_text("done")
    execution_id = started.json()["id"]
    wait_for(user, execution_id, TERMINAL)
    files = user.api.get(f"/executions/{execution_id}/files").json()
    assert [(f["path"], f["size"], f["agentId"]) for f in files] == [("result.txt", 4, None)]
    again = user.api.post(f"/executions/{execution_id}/rerun").json()
    wait_for(user, again["id"], TERMINAL)
    assert [f["path"] for f in user.api.get(f"/executions/{again['id']}/files").json()] == [
        "result.txt"
    ]

    relative = user.api.post(f"/workflows/{wf['id']}/executions", json={"workspace": "out"})
    assert relative.status_code == 422
    [problem] = relative.json()["error"]["details"]["problems"]
    assert problem["field"] == "workspace" and "relative path" in problem["message"]

    monkeypatch.setenv("ACCORD_WORKSPACE_ROOTS", str(tmp_path / "allowed"))
    outside = user.api.post(f"/workflows/{wf['id']}/executions", json={"workspace": str(named)})
    assert outside.status_code == 422
    assert "outside the folders workspaces may be in" in outside.text
    assert user.api.get(f"/workflows/{wf['id']}/executions").json()[0]["id"] == again["id"]

    by_workflow = user.api.patch(
        f"/workflows/{wf['id']}",
        json={
            "configuration": {
                **wf["configuration"],
                "workspace": {"path": str(tmp_path / "allowed" / "wf")},
            }
        },
    )
    assert by_workflow.status_code == 200, by_workflow.text
    third = user.api.post(f"/workflows/{wf['id']}/executions", json={})
    assert third.status_code == 201, third.text
    assert (tmp_path / "allowed" / "wf").is_dir()
    wait_for(user, third.json()["id"], TERMINAL)


def test_a_failed_execution_is_retried_from_its_failed_step(user: ApiUser, tmp_path) -> None:
    """A retry is a new execution that keeps the completed results (their cost stays where
    it was spent), works in the same folder with the same inputs, and runs the rest from the
    workflow as it is now: a step fixed after the failure runs fixed, and a step changed
    since runs again, with the steps after it."""
    wf = team_workflow(user, "plan", "check", "slow", "after")
    steps = wf["configuration"]["steps"]
    steps[2] |= {"timeoutMinutes": 0.005, "maxRetries": 0}  # 0.3 s: the slow step times out
    assert user.api.patch(f"/workflows/{wf['id']}", json={"configuration": wf["configuration"]})
    first = user.api.post(
        f"/workflows/{wf['id']}/executions",
        json={"inputs": {"topic": "x"}, "workspace": str(tmp_path / "out")},
    )
    failed = wait_for(user, first.json()["id"], TERMINAL)
    assert failed["status"] == "failed" and "'slow'" in failed["errorMessage"]
    (tmp_path / "out" / "notes.md").write_text("kept")

    retried = user.api.post(f"/executions/{failed['id']}/retry")
    assert retried.status_code == 201, retried.text
    second = wait_for(user, retried.json()["id"], TERMINAL)
    assert second["status"] == "failed" and second["retryOf"] == failed["id"]
    assert second["executionNumber"] == 2 and second["executionContext"] == {"topic": "x"}
    assert [(r["stepId"], r["status"], r["reusedFrom"]) for r in second["stepRuns"]] == [
        ("plan", "completed", failed["id"]),
        ("check", "completed", failed["id"]),
        ("slow", "failed", None),
        ("after", "skipped", None),
    ]
    kept, original = second["stepRuns"][0], failed["stepRuns"][0]
    assert kept["output"] == original["output"] and kept["agentId"] == original["agentId"]
    assert kept["finishedAt"] == original["finishedAt"]  # when it was done, in the first run
    assert second["stepResults"]["plan"] == original["output"]
    assert [f["path"] for f in user.api.get(f"/executions/{second['id']}/files").json()] == [
        "notes.md"
    ]

    # Fixed: the slow step gets its time; the check's instructions changed too, so it runs
    # again; the plan is still the first execution's.
    steps[2] |= {"timeoutMinutes": None}
    steps[1] |= {"description": "check it again, more carefully"}
    assert user.api.patch(f"/workflows/{wf['id']}", json={"configuration": wf["configuration"]})
    third = user.api.post(f"/executions/{second['id']}/retry").json()
    done = wait_for(user, third["id"], TERMINAL)
    assert done["status"] == "completed" and done["deliverable"]["stepIds"] == ["after"]
    assert [(r["stepId"], r["reusedFrom"]) for r in done["stepRuns"]] == [
        ("plan", failed["id"]),
        ("check", None),
        ("slow", None),
        ("after", None),
    ]

    again = user.api.post(f"/executions/{done['id']}/retry")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["details"]["current"] == "completed" and "run again" in error["message"]
