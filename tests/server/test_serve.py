"""`run_server` (what `accord serve` calls) as a real process: the login link, the local
user, the embedded engine with the agent team on the offline model, and token-only mode on
any other bind address."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.conftest import free_port


def serve(
    tmp_path: Path, host: str, port: int, log_level: str = "warning"
) -> subprocess.Popen[str]:
    code = (
        "from accord.server.serve import run_server; "
        f"run_server({host!r}, {port}, log_level={log_level!r})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env={"ACCORD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def first_line_with(process: subprocess.Popen[str], text: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return line.strip()
    raise AssertionError(f"the server exited without printing {text!r}")


def wait_until_up(base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=20)


def test_local_serve_prints_a_login_link_and_runs_a_team(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    process = serve(tmp_path, "127.0.0.1", port)
    processes.append(process)
    link = first_line_with(process, "/login?token=")
    assert link.startswith(f"http://127.0.0.1:{port}/login?token=acc_")
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(base_url)

    # A browser sends its page's Origin with every state-changing request.
    with httpx.Client(base_url=base_url, timeout=10, headers={"Origin": base_url}) as browser:
        assert browser.get("/api/v1/me").status_code == 401
        assert browser.get(link).status_code == 303
        me = browser.get("/api/v1/me").json()
        assert me["email"] == "local@accord.localhost"

        # The embedded engine runs a workflow with the agent team on the offline model.
        ada = browser.post("/api/v1/agents", json={"name": "Ada", "role": "developer"}).json()
        wf = browser.post(
            "/api/v1/workflows",
            json={
                "name": "Hello",
                "description": "say hello",
                "participatingAgents": [ada["id"]],
                "configuration": {"steps": [{"id": "hello", "name": "Say hello"}]},
            },
        ).json()
        execution = browser.post(f"/api/v1/workflows/{wf['id']}/executions").json()
        deadline = time.monotonic() + 60
        while execution["status"] not in ("completed", "failed", "cancelled"):
            assert time.monotonic() < deadline, execution
            time.sleep(0.2)
            execution = browser.get(f"/api/v1/executions/{execution['id']}").json()
        assert execution["status"] == "completed", execution.get("errorMessage")
        assert execution["stepRuns"][0]["agentId"] == ada["id"]


def test_a_server_without_users_prints_a_setup_link_that_makes_the_first_administrator(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    process = serve(tmp_path, "0.0.0.0", port, log_level="info")
    processes.append(process)
    link = first_line_with(process, "/setup?token=")
    secret = link.split("token=")[1]
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(base_url)
    assert httpx.get(f"{base_url}/api/v1/me").status_code == 401
    with httpx.Client(base_url=base_url, timeout=10, headers={"Origin": base_url}) as browser:
        page = browser.get(f"/setup?token={secret}")
        assert page.status_code == 200 and "first administrator" in page.text
        admin = {"email": "ann@example.test", "displayName": "Ann", "password": "long enough pw"}
        wrong = browser.post("/api/v1/setup", json=admin | {"setupToken": "setup_guess"})
        assert wrong.status_code == 401
        made = browser.post("/api/v1/setup", json=admin | {"setupToken": secret})
        assert made.status_code == 201, made.text
        me = browser.get("/api/v1/me").json()
        assert me["email"] == "ann@example.test" and me["isAdmin"] is True
        again = browser.post("/api/v1/setup", json=admin | {"setupToken": secret})
        assert again.status_code == 409
    with httpx.Client(base_url=base_url, timeout=10) as other:
        signed_in = other.post(
            "/api/v1/session", json={"email": "ann@example.test", "password": "long enough pw"}
        )
        assert signed_in.status_code == 200 and other.get("/api/v1/me").status_code == 200

    # The access log shows the requests, never the setup secret.
    process.terminate()
    output, _ = process.communicate(timeout=20)
    assert "GET /setup?token=[hidden]" in output
    assert secret not in output
