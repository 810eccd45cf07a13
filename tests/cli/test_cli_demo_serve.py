"""`accord demo` end to end: live in the terminal, then the browser monitor it serves."""

import re
import subprocess
import time
from pathlib import Path

import httpx
from support import free_port

from tests.cli.conftest import ACCORD, Accord, accord_env, json_of


def test_demo_runs_a_template_live_and_does_not_block_under_ci(accord: Accord):
    done = accord("demo", timeout=240)  # CI=true and no terminal: it must not serve forever
    out = done.stdout
    assert "Accord demo" in out and "offline model" in out
    assert re.search(r"Ada started .*design", out, re.IGNORECASE), out  # the live feed
    assert "Execution completed" in out and "knowledge items" in out
    # The agents write their work into the workspace through the filesystem MCP server.
    assert re.search(r"\[tool\] \w+ -> files\.write_file\(path=", out), out
    # Each write waits for approval; unattended, the demo approves it and says so.
    assert re.search(r"\w+ asks to call files\.write_file", out), out
    assert "approved files.write_file: auto-approved" in out
    assert re.search(r"tool calls +\d+ \(", out), out
    monitor = re.search(r"http://127\.0\.0\.1:8765/executions/([0-9a-f-]{36})", out)
    assert monitor, out

    agents = {a["name"]: a for a in json_of(accord("agents", "list", "--json"))}
    assert {"Ada", "Dev", "Rita", "Tess"} <= set(agents)
    # They run on the offline model, paced so the work can be watched.
    [provider] = json_of(accord("providers", "list", "--json"))
    assert provider["kind"] == "offline" and provider["settings"]["latencySeconds"] > 0
    assert all(a["llmProviderId"] == provider["id"] for a in agents.values())
    [workflow] = json_of(accord("workflows", "list", "--json"))
    assert workflow["templateId"] is not None and workflow["status"] == "completed"


def test_demo_then_serves_the_monitor_with_a_one_time_login_link(data_dir: Path, tmp_path: Path):
    """`--serve` (the default on a terminal): after the run, the browser signs in with the
    printed link and finds the execution it just watched."""
    port = free_port()
    server = subprocess.Popen(
        [ACCORD, "demo", "--serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=accord_env(data_dir),
        cwd=tmp_path,
    )
    try:
        link = execution_id = None
        deadline = time.monotonic() + 180
        while link is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line or server.poll() is None, "accord demo exited"
            if found := re.search(rf"127\.0\.0\.1:{port}/executions/([0-9a-f-]{{36}})", line):
                execution_id = found.group(1)
            if found := re.search(rf"http://127\.0\.0\.1:{port}/login\?token=\S+", line):
                link = found.group(0)
        assert link and execution_id, "no monitor URL or login link printed"
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=10) as browser:
            for _ in range(300):  # the link is printed just before the socket opens
                try:
                    signed_in = browser.get(link)
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert signed_in.status_code == 303
            execution = browser.get(f"{base}/api/v1/executions/{execution_id}")
            assert execution.status_code == 200 and execution.json()["status"] == "completed"
            assert browser.get(link).status_code == 401, "the link works once only"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_workers_and_an_api_only_server_refuse_sqlite_with_the_fix(accord: Accord):
    for args in (["worker"], ["serve", "--api-only"]):
        done = accord(*args, ok=False, timeout=30)
        assert done.returncode == 1
        assert "needs Postgres" in done.stderr and "ACCORD_DATABASE_URL" in done.stderr
