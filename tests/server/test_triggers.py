"""Runs that start themselves, over real HTTP with the engine in the server: signed webhooks,
schedules, dependencies between workflows, and signed notifications to a local receiver."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support import free_port

from accord.engine.testing import LatencyPerformer
from accord.storage.testing import scratch_postgres_database
from server.conftest import ApiUser, LiveServer, _live_server, make_user
from server.test_executions import TERMINAL, team_workflow, wait_for


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The server with its engine on each backend (a fresh database each: the engine looks
    at every schedule in it). One at a time: DBOS allows one engine per process."""
    state = tmp_path_factory.mktemp("triggers")
    performer = LatencyPerformer(latency_s=0.05)
    if request.param == "sqlite":
        yield from _live_server(f"sqlite:///{state / 'accord.db'}", performer, state_dir=state)
    else:
        with scratch_postgres_database("accord_triggers") as url:
            yield from _live_server(url, performer, state_dir=state)


@pytest.fixture
def user(engine_server: LiveServer) -> ApiUser:
    return make_user(engine_server)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def workflows(user: ApiUser, *step_ids: str) -> list[dict[str, Any]]:
    """One single-step workflow per step ID, all done by one agent."""
    agent = user.api.post("/agents", json={"name": "Ada", "role": "developer"}).json()
    made = []
    for step_id in step_ids:
        response = user.api.post(
            "/workflows",
            json={
                "name": step_id.title(),
                "description": "",
                "participatingAgents": [agent["id"]],
                "configuration": {"steps": [{"id": step_id, "name": step_id.title()}]},
            },
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def executions_of(user: ApiUser, workflow_id: str) -> list[dict[str, Any]]:
    response = user.api.get(f"/workflows/{workflow_id}/executions")
    assert response.status_code == 200, response.text
    executions: list[dict[str, Any]] = response.json()
    return executions


def test_a_signed_github_style_delivery_starts_one_run_with_its_json_as_inputs(
    engine_server: LiveServer, user: ApiUser
) -> None:
    wf = team_workflow(user, "triage")
    made = user.api.post(
        f"/workflows/{wf['id']}/hooks",
        json={"name": "github-push", "inputs": {"repo": "$.repository.full_name"}},
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["urlPath"] == f"/api/v1/hooks/{hook['id']}" and len(hook["secret"]) > 20
    # The secret is shown once: listing the workflow's triggers never returns it.
    listed = user.api.get(f"/workflows/{wf['id']}/triggers").json()
    assert "secret" not in json.dumps(listed["hooks"])

    body = json.dumps({"repository": {"full_name": "acme/api"}, "ref": "main"}).encode()
    inbound = f"{engine_server.base_url}{hook['urlPath']}"
    import httpx

    with httpx.Client(timeout=10) as anonymous:
        unsigned = anonymous.post(inbound, content=body)
        forged = anonymous.post(
            inbound, content=body, headers={"X-Hub-Signature-256": sign("guess", body)}
        )
        assert unsigned.status_code == forged.status_code == 401
        assert executions_of(user, wf["id"]) == []

        headers = {"X-Hub-Signature-256": sign(hook["secret"], body), "X-GitHub-Delivery": "d-1"}
        accepted = anonymous.post(inbound, content=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
        replayed = anonymous.post(inbound, content=body, headers=headers)
        assert replayed.status_code == 202
        assert replayed.json() == {**accepted.json(), "duplicate": True}

        too_big = anonymous.post(
            inbound,
            content=b"x" * 1_000_001,
            headers={"X-Hub-Signature-256": "sha256=0", "X-GitHub-Delivery": "d-2"},
        )
        assert too_big.status_code == 413

    runs = executions_of(user, wf["id"])
    assert len(runs) == 1
    run = wait_for(user, runs[0]["id"], TERMINAL)
    assert run["status"] == "completed"
    assert run["triggerReason"] == "event" and run["triggeredBy"] == f"hook:{hook['id']}"
    assert run["executionContext"] == {"repo": "acme/api"}


def test_another_users_hooks_and_schedules_are_not_found(
    engine_server: LiveServer, user: ApiUser
) -> None:
    wf = team_workflow(user, "solo")
    hook = user.api.post(f"/workflows/{wf['id']}/hooks", json={"name": "h"}).json()
    schedule = user.api.post(f"/workflows/{wf['id']}/schedules", json={"every": "1h"}).json()
    mallory = make_user(engine_server, "Mallory")
    assert mallory.api.get(f"/workflows/{wf['id']}/triggers").status_code == 404
    assert mallory.api.delete(f"/hooks/{hook['id']}").status_code == 404
    assert mallory.api.post(f"/schedules/{schedule['id']}/pause").status_code == 404
    assert mallory.api.post(f"/workflows/{wf['id']}/hooks", json={"name": "x"}).status_code == 404


def test_bad_schedules_are_refused_with_the_field_and_a_fix(user: ApiUser) -> None:
    wf = team_workflow(user, "solo")
    for body, field, words in [
        ({"cron": "0 2 * *"}, "cron", "five"),
        ({"cron": "61 2 * * *"}, "cron", "not a valid cron"),
        ({"every": "7s"}, "every", "does not divide"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"cron": "0 2 * * *", "every": "1h"}, "body", "not both"),
    ]:
        response = user.api.post(f"/workflows/{wf['id']}/schedules", json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()["error"]["details"]["problems"][0]
        assert problem["field"] == field and words in problem["message"], problem


def test_an_interval_schedule_starts_runs_and_pausing_stops_them(user: ApiUser) -> None:
    wf = team_workflow(user, "tick")
    made = user.api.post(
        f"/workflows/{wf['id']}/schedules",
        json={"every": "1s", "inputs": {"topic": "nightly"}, "overlap": "skip"},
    )
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert len(schedule["nextRuns"]) == 3

    deadline = time.monotonic() + 20
    while len(executions_of(user, wf["id"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    paused = user.api.post(f"/schedules/{schedule['id']}/pause").json()
    assert paused["paused"] is True and paused["nextRuns"] == []
    runs = executions_of(user, wf["id"])
    assert len(runs) >= 2
    for run in runs:
        assert run["triggerReason"] == "scheduled"
        assert run["triggeredBy"] == f"schedule:{schedule['id']}"
        assert run["executionContext"]["topic"] == "nightly"
    # One run per tick: no two runs of one tick, whichever process fired it.
    ticks = [r["executionContext"]["scheduledAt"] for r in runs]
    assert len(ticks) == len(set(ticks))

    for run in runs:
        wait_for(user, run["id"], TERMINAL)
    settled = len(executions_of(user, wf["id"]))
    time.sleep(2.5)
    assert len(executions_of(user, wf["id"])) == settled


def test_a_dependency_chain_runs_in_order_with_each_output_passed_on(user: ApiUser) -> None:
    a, b, c = workflows(user, "fetch", "summarise", "publish")
    for downstream, upstream in ((b, a), (c, b)):
        response = user.api.post(
            f"/workflows/{downstream['id']}/dependencies",
            json={"upstreamWorkflowId": upstream["id"], "on": "completed"},
        )
        assert response.status_code == 201, response.text
    cycle = user.api.post(
        f"/workflows/{a['id']}/dependencies", json={"upstreamWorkflowId": c["id"]}
    )
    assert cycle.status_code == 422
    assert "cycle" in cycle.json()["error"]["details"]["problems"][0]["message"]

    first = user.api.post(f"/workflows/{a['id']}/executions", json={}).json()
    done_a = wait_for(user, first["id"], TERMINAL)
    deadline = time.monotonic() + 20
    while not executions_of(user, c["id"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    [run_b] = executions_of(user, b["id"])
    [run_c] = executions_of(user, c["id"])
    done_c = wait_for(user, run_c["id"], TERMINAL)
    assert done_c["status"] == "completed"
    assert run_b["triggerReason"] == run_c["triggerReason"] == "dependency"
    assert run_b["triggeredBy"] == done_a["id"] and run_c["triggeredBy"] == run_b["id"]
    upstream = run_b["executionContext"]["upstream"]
    assert upstream["executionId"] == done_a["id"] and upstream["status"] == "completed"
    assert upstream["output"] == done_a["finalOutput"]


class Receiver:
    """A local HTTP endpoint that fails its first `failures` requests, or hangs."""

    def __init__(self, *, failures: int = 0, hang_s: float = 0.0) -> None:
        self.failures = failures
        self.hang_s = hang_s
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hang_s:
                    time.sleep(receiver.hang_s)
                status = 500 if len(receiver.received) < receiver.failures else 204
                receiver.received.append((dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.close()


def test_a_notification_that_fails_twice_is_delivered_on_the_third_try_and_logged(
    user: ApiUser, receiver: Receiver
) -> None:
    wf = team_workflow(user, "report")
    made = user.api.post(
        "/notifications",
        json={"url": receiver.url, "events": ["execution.completed"], "workflowId": wf["id"]},
    )
    assert made.status_code == 201, made.text
    subscription = made.json()
    run = user.api.post(f"/workflows/{wf['id']}/executions", json={}).json()
    wait_for(user, run["id"], TERMINAL)

    deadline = time.monotonic() + 30
    deliveries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        deliveries = user.api.get(f"/notifications/{subscription['id']}/deliveries").json()
        if deliveries and deliveries[0]["status"] == "delivered":
            break
        time.sleep(0.2)
    [delivery] = deliveries
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["responseStatus"] == 204 and delivery["executionId"] == run["id"]
    assert [status for _, _, status in receiver.received] == [500, 500, 204]
    headers, body, _ = receiver.received[-1]
    assert headers["X-Accord-Signature-256"] == sign(subscription["secret"], body)
    sent = json.loads(body)
    assert sent["event"] == "execution.completed" and sent["executionId"] == run["id"]


def test_a_hanging_notification_endpoint_does_not_delay_the_run(user: ApiUser) -> None:
    hanging = Receiver(hang_s=8)
    try:
        wf, quick = workflows(user, "one", "two")
        user.api.post(
            "/notifications",
            json={"url": hanging.url, "events": ["execution.completed"], "workflowId": wf["id"]},
        )
        started = time.monotonic()
        first = user.api.post(f"/workflows/{wf['id']}/executions", json={}).json()
        wait_for(user, first["id"], TERMINAL)
        second = user.api.post(f"/workflows/{quick['id']}/executions", json={}).json()
        assert wait_for(user, second["id"], TERMINAL)["status"] == "completed"
        assert time.monotonic() - started < 6
    finally:
        hanging.close()
