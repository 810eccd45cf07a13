"""Production as an operator wires it: `accord serve --api-only` and two `accord worker`
processes on Postgres, all exporting traces to a real OTLP receiver (Arize Phoenix, an
observability server from PyPI, which `./dev` installs into `.venv-otlp-receiver`): the
server over OTLP/HTTP, the workers over OTLP/gRPC. One execution is one trace across the
three processes; each answers `/metrics`, `/healthz` and `/readyz` and logs JSON lines."""

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
        "ACCORD_WORKER_CONCURRENCY": "1",  # so that the two parallel steps go to both workers
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
        workers = []
        for n in (1, 2):
            log = tmp_path / f"worker-{n}.err"
            worker = subprocess.Popen(
                [ACCORD, "worker", "--metrics-port", "0"],
                env=worker_env,
                cwd=tmp_path,
                text=True,
                stdout=subprocess.PIPE,
                stderr=log.open("w"),
            )
            processes.append(worker)
            workers.append({"process": worker, "log": log})
        for worker in workers:
            out = worker["process"].stdout
            assert out is not None
            line = out.readline()  # "Metrics and health on http://127.0.0.1:<port> ..."
            found = re.search(r"Metrics and health on (http://\S+) ", line)
            assert found, f"the worker did not say where its metrics are: {line!r}"
            line = out.readline()
            executor = re.search(r"Accord worker (\S+) is taking step attempts", line)
            assert executor, f"the worker did not start: {line!r}"
            worker |= {"url": found.group(1), "executor_id": executor.group(1)}
        api = api_when_serving(port, token, timeout=60)
        yield {
            "api": api,
            "server_url": f"http://127.0.0.1:{port}",
            "server_log": tmp_path / "server.err",
            "workers": workers,
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
def test_one_execution_is_one_trace_across_a_server_and_two_workers(
    traced_fleet: dict[str, Any],
) -> None:
    api: httpx.Client = traced_fleet["api"]
    server_url, workers = traced_fleet["server_url"], traced_fleet["workers"]
    urls = [server_url, *(w["url"] for w in workers)]

    # Health: every process alive and, once its engine runs, ready.
    for url in urls:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}

    def ready(url: str) -> dict[str, Any] | None:
        response = httpx.get(f"{url}/readyz")
        return response.json() if response.status_code == 200 else None

    for url in urls:
        checks = wait_for(f"{url} to be ready", lambda u=url: ready(u), timeout=30)["checks"]
        assert checks == {"database": "ok", "migrations": "ok", "engine": "ok"}

    traced_fleet["wait_for_phoenix"]()  # before the first span is exported
    # Each model call takes 0.3 s, so that both workers are busy at once.
    provider = created(
        api.post(
            "/providers",
            json={
                "name": "offline team",
                "kind": "offline",
                "defaultModel": "accord-offline",
                "settings": {"latencySeconds": 0.3},
            },
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
                "name": "Traced release notes",
                "description": "two drafts at once, then one merge",
                "workflowType": "parallel",
                "participatingAgents": [ada, bo],
                "configuration": {
                    "steps": [
                        {"id": "api", "name": "Draft the API notes", "preferredAgentId": ada},
                        {"id": "ui", "name": "Draft the UI notes", "preferredAgentId": bo},
                        {"id": "merge", "name": "Merge the notes", "dependsOn": ["api", "ui"]},
                    ]
                },
            },
        )
    )
    started = created(api.post(f"/workflows/{workflow['id']}/executions", json={}))

    def ended() -> dict[str, Any] | None:
        execution = api.get(f"/executions/{started['id']}").json()
        return execution if execution["status"] in ("completed", "failed", "cancelled") else None

    execution = wait_for("the execution to end", ended, timeout=120, every=0.2)
    assert execution["status"] == "completed", execution.get("errorMessage")
    runs = execution["stepRuns"]
    executors = {w["executor_id"] for w in workers}
    assert {r["executorId"] for r in runs} == executors, "both workers ran steps"
    usage = execution["usage"]

    # Each worker's /metrics counts what it ran; together, the execution's records.
    scraped = [samples(httpx.get(f"{w['url']}/metrics").text) for w in workers]

    def summed(name: str, **labels: str) -> float:
        return sum(total(found, name, **labels) for found in scraped)

    for worker, found in zip(workers, scraped, strict=True):
        ran = sum(1 for r in runs if r["executorId"] == worker["executor_id"])
        assert total(found, "accord_step_attempts_total", status="completed") == ran
        assert total(found, "accord_active_attempts") == 0
        assert total(found, "accord_heartbeats_total", role="worker") >= 1
    assert summed("accord_model_calls_total", outcome="ok") == usage["modelCalls"]
    assert summed("accord_model_tokens_total", direction="input") == usage["inputTokens"]
    assert summed("accord_model_tokens_total", direction="output") == usage["outputTokens"]
    assert summed("accord_model_call_duration_seconds_count") == usage["modelCalls"]
    assert summed("accord_model_call_duration_seconds_sum") >= usage["modelCalls"] * 0.3

    # The server's /metrics: what the database says, counted once.
    server_metrics = samples(httpx.get(f"{server_url}/metrics").text)
    completed = total(
        server_metrics, "accord_executions", workflow_id=workflow["id"], status="completed"
    )
    assert completed == 1
    assert total(server_metrics, "accord_queue_depth") == 0
    assert total(server_metrics, "accord_approvals_waiting") == 0
    ages = {
        dict(labels)["executor_id"]: value
        for (name, labels), value in server_metrics.items()
        if name == "accord_process_heartbeat_age_seconds"
    }
    assert all(ages[e] < 30 for e in executors)
    assert total(server_metrics, "accord_step_attempts_total") == 0, "the server ran none"

    # One trace in Phoenix, its ID the execution's: the server's start, both workers' step
    # attempts under the execution's span, the model calls under them.
    trace_id = uuid.UUID(started["id"]).hex

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = phoenix_spans(traced_fleet["phoenix"], trace_id)
        names = [s["name"] for s in spans]
        chats = sum(1 for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat")
        done = "execution" in names and "start" in names and chats == usage["modelCalls"]
        return spans if done else None

    spans = wait_for("the whole trace in Phoenix", whole_trace, timeout=30, every=0.5)
    [root] = [s for s in spans if s["name"] == "execution"]
    assert root["parent_id"] is None
    assert root["attributes"]["accord.execution.status"] == "completed"
    [start] = [s for s in spans if s["name"] == "start"]
    steps = [s for s in spans if s["name"].startswith("step ")]
    assert sorted(s["name"] for s in steps) == ["step api", "step merge", "step ui"]
    for span in [start, *steps]:
        assert span["parent_id"] == root["context"]["span_id"]
    assert {s["attributes"]["accord.executor.id"] for s in steps} == executors
    by_id = {s["context"]["span_id"]: s for s in spans}
    for chat in (s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"):
        assert chat["attributes"]["gen_ai.request.model"] == "accord-offline"
        assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0
        assert by_id[chat["parent_id"]]["name"].startswith("invoke_agent")
        # Under a step, at some depth: a teammate answering a question runs under the
        # asking agent's tool call.
        ancestor = chat
        while not ancestor["name"].startswith("step "):
            ancestor = by_id[ancestor["parent_id"]]
        assert ancestor in steps

    # The workers' logs: one JSON object per line, their attempts named with their trace.
    logged = []
    for worker in workers:
        process: subprocess.Popen[str] = worker["process"]
        process.terminate()
        assert process.wait(timeout=20) == 0
        logged += [json.loads(line) for line in worker["log"].read_text().splitlines()]
    attempts = [r for r in logged if r.get("executionId") == started["id"]]
    assert {(r["stepId"], r["attempt"]) for r in attempts if r["logger"] == "accord.attempts"} == {
        ("api", 1),
        ("ui", 1),
        ("merge", 1),
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
