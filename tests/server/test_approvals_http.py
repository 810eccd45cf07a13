"""Approvals over real HTTP: a server whose engine runs an attempt that asks for approval
before its call; the user lists it, approves or rejects it, and the attempt goes on."""

from collections.abc import Iterator

import pytest
from support import wait_for

from accord.engine.testing import LatencyPerformer
from accord.storage.repositories.events import EventRepository
from accord.storage.testing import scratch_postgres_database
from server.conftest import ApiUser, LiveServer, _live_server, make_user
from server.test_executions import TERMINAL, team_workflow
from server.test_executions import wait_for as wait_for_status


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose attempts of a step `write` ask to call `files.write_file` first."""
    performer = LatencyPerformer(latency_s=0.02, ask_approval={"write": ("files", "write_file")})
    state = tmp_path_factory.mktemp("approvals")
    if request.param == "sqlite":
        yield from _live_server(f"sqlite:///{state / 'accord.db'}", performer, state_dir=state)
        return
    with scratch_postgres_database("accord_test") as url:
        yield from _live_server(url, performer, state_dir=state)


@pytest.fixture
def user(server: LiveServer) -> Iterator[ApiUser]:
    user = make_user(server, "Alice")
    yield user
    user.api.close()


def waiting_approval(user: ApiUser, execution_id: str) -> dict:
    def pending() -> dict | None:
        listed = user.api.get("/approvals", params={"status": "pending"}).json()
        return next((a for a in listed if a["executionId"] == execution_id), None)

    return wait_for("a pending approval", pending, timeout=20)


def start(user: ApiUser) -> tuple[dict, dict]:
    workflow = team_workflow(user, "write")
    execution = user.api.post(f"/workflows/{workflow['id']}/executions", json={}).json()
    return execution, waiting_approval(user, execution["id"])


def decision_seen_by_the_attempt(user: ApiUser, execution_id: str) -> dict:
    done = wait_for_status(user, execution_id, TERMINAL)
    assert done["status"] == "completed", done
    (run,) = done["stepRuns"]
    return run["output"]["data"]["approval"]


def test_an_approval_over_http_lets_the_attempt_go_on(server: LiveServer, user: ApiUser) -> None:
    execution, approval = start(user)
    assert approval["stepId"] == "write" and approval["attempt"] == 1
    assert (approval["server"], approval["tool"], approval["agentName"]) == (
        "files",
        "write_file",
        "Ada",
    )
    assert approval["arguments"] == {"path": "write.txt", "apiKey": "[redacted]"}
    assert approval["status"] == "pending" and approval["decidedBy"] is None
    assert user.api.get(f"/executions/{execution['id']}").json()["status"] == "running"

    decided = user.api.post(f"/approvals/{approval['id']}/approve", json={})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["decidedBy"] == user.id

    seen = decision_seen_by_the_attempt(user, execution["id"])
    assert (seen["id"], seen["status"], seen["approved"]) == (approval["id"], "approved", True)
    assert user.api.get("/approvals", params={"status": "pending"}).json() == []
    with server.db.read_session() as s:
        kinds = [
            (e.kind, e.data["decision"])
            for e in EventRepository(s).of_execution(user_id=user.id, execution_id=execution["id"])
            if e.kind.startswith("approval.")
        ]
    assert kinds == [("approval.requested", None), ("approval.decided", "approved")]


def test_a_rejection_over_http_reaches_the_attempt_with_its_reason(user: ApiUser) -> None:
    execution, approval = start(user)
    refused = user.api.post(
        f"/approvals/{approval['id']}/reject", json={"reason": "write to docs/ instead"}
    )
    assert refused.status_code == 200, refused.text
    seen = decision_seen_by_the_attempt(user, execution["id"])
    assert (seen["status"], seen["approved"], seen["reason"]) == (
        "rejected",
        False,
        "write to docs/ instead",
    )
    again = user.api.post(f"/approvals/{approval['id']}/approve", json={})
    assert again.status_code == 409 and again.json()["error"]["details"]["current"] == "rejected"
    listed = user.api.get("/approvals", params={"executionId": execution["id"]}).json()
    assert [(a["id"], a["status"]) for a in listed] == [(approval["id"], "rejected")]


def test_another_user_can_neither_see_nor_decide_an_approval(
    server: LiveServer, user: ApiUser
) -> None:
    execution, approval = start(user)
    intruder = make_user(server, "Mallory")
    try:
        assert intruder.api.get("/approvals").json() == []
        assert intruder.api.get(f"/approvals/{approval['id']}").status_code == 404
        for action in ("approve", "reject"):
            response = intruder.api.post(f"/approvals/{approval['id']}/{action}", json={})
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
    finally:
        intruder.api.close()
    assert user.api.get(f"/approvals/{approval['id']}").json()["status"] == "pending"
    empty = user.api.post(f"/approvals/{approval['id']}/reject", json={"reason": ""})
    assert empty.status_code == 422
    assert empty.json()["error"]["details"]["problems"][0]["field"] == "reason"
    user.api.post(f"/executions/{execution['id']}/cancel")
    closed = user.api.get(f"/approvals/{approval['id']}").json()
    assert closed["status"] == "expired" and "the execution ended" in closed["reason"]
