"""Production as an operator wires it: `accord serve --api-only` and an `accord worker` on
Postgres, both exporting traces to a real OTLP receiver (Arize Phoenix, an observability
server from PyPI, which `./dev` installs into `.venv-otlp-receiver`): the server over
OTLP/HTTP, the worker over OTLP/gRPC. One execution is one trace across both processes;
both answer `/metrics`, `/healthz` and `/readyz`; the worker logs JSON lines."""

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
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

from .conftest import samples, total

ROOT = Path(__file__).resolve().parents[2]
PHOENIX = ROOT / ".venv-otlp-receiver" / "bin" / "phoenix"


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A Phoenix server on loopback, starting: its OTLP/HTTP and OTLP/gRPC endpoints, its REST
    URL, and `wait_up()`. It takes a while to start, so the test starts Accord meanwhile and
    waits only before anything is exported."""
    assert PHOENIX.exists(), "the OTLP receiver is not installed: run ./dev setup"
    http_port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_"))}
    env |= {
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(http_port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_WORKING_DIR": str(tmp_path / "phoenix"),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = (tmp_path / "phoenix.log").open("w")
    process = subprocess.Popen(
        [str(PHOENIX), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    url = f"http://127.0.0.1:{http_port}"

    def up() -> bool:
        assert process.poll() is None, (tmp_path / "phoenix.log").read_text()[-2000:]
        try:
            return httpx.get(f"{url}/v1/projects", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def wait_up() -> None:
        wait_for("Phoenix to serve", up, timeout=180, every=0.5)

    try:
        yield {"url": url, "http": url, "grpc": f"http://127.0.0.1:{grpc_port}", "wait_up": wait_up}
    finally:
        stop_all([process])


@pytest.fixture
def traced_fleet(
    fresh_postgres_url: str, tmp_path: Path, phoenix: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The server and one worker exporting to Phoenix, a user's API client, the ports."""
    db = Database(fresh_postgres_url)
    db.upgrade()
    with db.session() as s:
        user_id = UserRepository(s).create(email="ops@example.test", display_name="Ops").id
        _, token = TokenRepository(s).create(user_id=user_id, name="telemetry test")
    db.dispose()
    env = {k: v for k, v in accord_env(tmp_path / "data").items() if not k.startswith("OTEL_")}
    env |= {
        "ACCORD_DATABASE_URL": fresh_postgres_url,
        "ACCORD_DBOS_LOG_LEVEL": "ERROR",
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms: spans leave soon after they end
    }
    server_env = env | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix["http"],
        "OTEL_SERVICE_NAME": "accord-server",
        "ACCORD_LOG_FORMAT": "json",
    }
    worker_env = env | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix["grpc"],
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": "accord-worker",
        "ACCORD_LOG_FORMAT": "json",
    }
    port = free_port()
    processes: list[subprocess.Popen[str]] = []
    try:
        server = subprocess.Popen(
            [ACCORD, "serve", "--api-only", "--port", str(port)],
            env=server_env,
            cwd=tmp_path,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "server.err").open("w"),
        )
        processes.append(server)
        worker_log = tmp_path / "worker.err"
        worker = subprocess.Popen(
            [ACCORD, "worker", "--metrics-port", "0"],
            env=worker_env,
            cwd=tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=worker_log.open("w"),
        )
        processes.append(worker)
        assert worker.stdout is not None
        line = worker.stdout.readline()  # "Metrics and health on http://127.0.0.1:<port> ..."
        found = re.search(r"Metrics and health on (http://\S+) ", line)
        assert found, f"the worker did not say where its metrics are: {line!r}"
        line = worker.stdout.readline()
        executor = re.search(r"Accord worker (\S+) is taking step attempts", line)
        assert executor, f"the worker did not start: {line!r}"
        api = api_when_serving(port, token, timeout=60)
        yield {
            "api": api,
            "server_url": f"http://127.0.0.1:{port}",
            "worker_url": found.group(1),
            "worker": worker,
            "worker_log": worker_log,
            "server_log": tmp_path / "server.err",
            "executor_id": executor.group(1),
            "phoenix": phoenix["url"],
            "wait_for_phoenix": phoenix["wait_up"],
        }
        api.close()
    finally:
        stop_all(processes)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def phoenix_spans(url: str, trace_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/v1/projects/default/spans", params={"limit": 1000}, timeout=10)
    response.raise_for_status()
    return [s for s in response.json()["data"] if s["context"]["trace_id"] == trace_id]


@pytest.mark.slow
@pytest.mark.postgres
def test_one_execution_is_one_trace_across_a_server_and_a_worker(
    traced_fleet: dict[str, Any],
) -> None:
    api: httpx.Client = traced_fleet["api"]
    server_url, worker_url = traced_fleet["server_url"], traced_fleet["worker_url"]

    # Health: both processes alive and, once the worker's engine runs, ready.
    for url in (server_url, worker_url):
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}

    def ready(url: str) -> dict[str, Any] | None:
        response = httpx.get(f"{url}/readyz")
        return response.json() if response.status_code == 200 else None

    for url in (server_url, worker_url):
        checks = wait_for(f"{url} to be ready", lambda u=url: ready(u), timeout=30)["checks"]
        assert checks == {"database": "ok", "migrations": "ok", "engine": "ok"}

    traced_fleet["wait_for_phoenix"]()  # before the first span is exported
    provider = created(
        api.post(
            "/providers",
            json={"name": "offline team", "kind": "offline", "defaultModel": "accord-offline"},
        )
    )
    ada, bo = (
        created(
            api.post(
                "/agents",
                json={"name": name, "role": role, "llmProviderId": provider["id"]},
            )
        )["id"]
        for name, role in (("Ada", "developer"), ("Bo", "writer"))
    )
    workflow = created(
        api.post(
            "/workflows",
            json={
                "name": "Traced release notes",
                "description": "plan then write",
                "workflowType": "pipeline",
                "participatingAgents": [ada, bo],
                "configuration": {
                    "steps": [
                        {"id": "plan", "name": "Plan", "type": "analysis", "preferredAgentId": ada},
                        {
                            "id": "write",
                            "name": "Write",
                            "dependsOn": ["plan"],
                            "preferredAgentId": bo,
                        },
                    ]
                },
            },
        )
    )
    started = created(api.post(f"/workflows/{workflow['id']}/executions", json={}))

    def ended() -> dict[str, Any] | None:
        execution = api.get(f"/executions/{started['id']}").json()
        return execution if execution["status"] in ("completed", "failed", "cancelled") else None

    execution = wait_for("the execution to end", ended, timeout=60, every=0.2)
    assert execution["status"] == "completed", execution.get("errorMessage")
    runs = execution["stepRuns"]
    assert {r["executorId"] for r in runs} == {traced_fleet["executor_id"]}
    usage = execution["usage"]

    # The worker's /metrics: what it ran, matching the execution's records.
    worker_metrics = samples(httpx.get(f"{worker_url}/metrics").text)
    assert total(worker_metrics, "accord_step_attempts_total", status="completed") == len(runs)
    assert total(worker_metrics, "accord_model_calls_total", outcome="ok") == usage["modelCalls"]
    assert (
        total(worker_metrics, "accord_model_tokens_total", direction="input")
        == (usage["inputTokens"])
    )
    assert (
        total(worker_metrics, "accord_model_tokens_total", direction="output")
        == (usage["outputTokens"])
    )
    assert total(worker_metrics, "accord_active_attempts") == 0
    assert total(worker_metrics, "accord_heartbeats_total", role="worker") >= 1

    # The server's /metrics: what the database says, counted once.
    server_metrics = samples(httpx.get(f"{server_url}/metrics").text)
    assert (
        total(server_metrics, "accord_executions", workflow_id=workflow["id"], status="completed")
        == 1
    )
    assert total(server_metrics, "accord_queue_depth") == 0
    assert total(server_metrics, "accord_approvals_waiting") == 0
    ages = {
        dict(labels)["executor_id"]: value
        for (name, labels), value in server_metrics.items()
        if name == "accord_process_heartbeat_age_seconds"
    }
    assert ages[traced_fleet["executor_id"]] < 30
    assert total(server_metrics, "accord_step_attempts_total") == 0, "the server ran none"

    # One trace in Phoenix, its ID the execution's: the server's start, the worker's step
    # attempts under the execution's span, the model calls under them.
    trace_id = uuid.UUID(started["id"]).hex

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = phoenix_spans(traced_fleet["phoenix"], trace_id)
        names = [s["name"] for s in spans]
        done = "execution" in names and "start" in names and names.count("step write") == 1
        return spans if done else None

    spans = wait_for("the trace in Phoenix", whole_trace, timeout=30, every=0.5)
    [root] = [s for s in spans if s["name"] == "execution"]
    assert root["parent_id"] is None
    [start] = [s for s in spans if s["name"] == "start"]
    steps = [s for s in spans if s["name"].startswith("step ")]
    assert sorted(s["name"] for s in steps) == ["step plan", "step write"]
    for span in [start, *steps]:
        assert span["parent_id"] == root["context"]["span_id"]
    for step in steps:
        assert step["attributes"]["accord.executor.id"] == traced_fleet["executor_id"]
    chats = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    assert len(chats) == usage["modelCalls"]
    assert {c["attributes"]["gen_ai.request.model"] for c in chats} == {"accord-offline"}

    # The worker's log: one JSON object per line, its attempts named with their trace.
    worker: subprocess.Popen[str] = traced_fleet["worker"]
    worker.terminate()
    assert worker.wait(timeout=20) == 0
    lines = [json.loads(line) for line in traced_fleet["worker_log"].read_text().splitlines()]
    attempts = [r for r in lines if r.get("executionId") == started["id"]]
    assert {(r["stepId"], r["attempt"]) for r in attempts if r["logger"] == "accord.attempts"} == {
        ("plan", 1),
        ("write", 1),
    }
    assert {r["traceId"] for r in attempts} == {trace_id}

    # The server's log too, uvicorn's request lines included.
    server_lines = [
        json.loads(line) for line in traced_fleet["server_log"].read_text().splitlines()
    ]
    assert any(
        r["logger"] == "uvicorn.access" and f"/executions/{started['id']}" in r["message"]
        for r in server_lines
    )
