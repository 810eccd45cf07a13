"""`accord serve` on SQLite, the one-process setup: a run through the API, then `/metrics`
scraped over HTTP and parsed with the Prometheus text parser, its counters matching what the
run recorded, and the health checks."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port, wait_for

from accord.server.settings import ServerSettings
from accord.storage.db import Database
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from tests.server.conftest import start_live_server

from .conftest import samples, total


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The server with its engine and the agent team, on a SQLite database of its own."""
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    port = free_port()
    uvicorn_server, thread = start_live_server(
        ServerSettings(database_url=url, port=port, state_dir=tmp_path), None
    )
    db = Database(url)
    with db.session() as s:
        user_id = UserRepository(s).create(email="ops@example.test", display_name="Ops").id
        _, token = TokenRepository(s).create(user_id=user_id, name="metrics test")
    base = f"http://127.0.0.1:{port}"
    api = httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    try:
        yield {"base": base, "api": api}
    finally:
        api.close()
        uvicorn_server.should_exit = True
        thread.join(timeout=20)
        db.dispose()


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_metrics_after_a_run_match_what_it_recorded(server: dict[str, Any]) -> None:
    base, api = server["base"], server["api"]
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "engine": "ok"}

    before = samples(httpx.get(f"{base}/metrics").text)
    provider = created(
        api.post(
            "/providers",
            json={"name": "offline team", "kind": "offline", "defaultModel": "accord-offline"},
        )
    )
    ada, bo = (
        created(
            api.post("/agents", json={"name": name, "role": role, "llmProviderId": provider["id"]})
        )["id"]
        for name, role in (("Ada", "developer"), ("Bo", "writer"))
    )
    workflow = created(
        api.post(
            "/workflows",
            json={
                "name": "Measured",
                "description": "plan then write",
                "workflowType": "pipeline",
                "participatingAgents": [ada, bo],
                "configuration": {
                    "steps": [
                        {"id": "plan", "name": "Plan", "preferredAgentId": ada},
                        {"id": "write", "name": "Write", "dependsOn": ["plan"]},
                    ]
                },
            },
        )
    )
    started = created(api.post(f"/workflows/{workflow['id']}/executions", json={}))

    def ended() -> dict[str, Any] | None:
        execution = api.get(f"/executions/{started['id']}").json()
        return execution if execution["status"] in ("completed", "failed") else None

    execution = wait_for("the execution to end", ended, timeout=60, every=0.1)
    assert execution["status"] == "completed", execution.get("errorMessage")
    response = httpx.get(f"{base}/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    usage, runs = execution["usage"], execution["stepRuns"]
    assert moved("accord_step_attempts_total", status="completed") == len(runs) == 2
    assert moved("accord_step_attempt_duration_seconds_count") == len(runs)
    assert moved("accord_model_calls_total", outcome="ok") == usage["modelCalls"]
    assert moved("accord_model_tokens_total", direction="input") == usage["inputTokens"]
    assert moved("accord_model_tokens_total", direction="output") == usage["outputTokens"]
    interactions = api.get(f"/executions/{started['id']}/interactions").json()
    assert moved("accord_interactions_total") == len(interactions)

    # Read from the database: this execution, nothing waiting, this server heartbeating.
    assert total(after, "accord_executions", workflow_id=workflow["id"], status="completed") == 1
    assert total(after, "accord_executions", workflow="Measured") == 1
    assert total(after, "accord_queue_depth") == 0
    assert total(after, "accord_running_attempts") == 0
    roles = {
        dict(labels)["role"]
        for (name, labels), _ in after.items()
        if name == "accord_process_heartbeat_age_seconds"
    }
    assert "serve" in roles
