"""Executions from the terminal: listed, shown with their attempts, and watched live from a
second process while another one runs them."""

import subprocess
import time
from pathlib import Path

from tests.cli.conftest import ACCORD, Accord, accord_env, json_of, slow_provider

SLOW = """\
name: Slow pair
agents:
  - name: Kim
    role: developer
    provider: slow
  - name: Lou
    role: reviewer
    provider: slow
steps:
  - id: draft
    name: Draft it
    agent: Kim
  - id: polish
    name: Polish it
    agent: Lou
"""


def test_watch_follows_a_run_in_another_process_then_show_lists_its_attempts(
    accord: Accord, data_dir: Path, tmp_path: Path
):
    offline = json_of(slow_provider(accord, 0.4, "--json"))
    assert offline["settings"] == {"latencySeconds": 0.4}
    file = tmp_path / "slow.yaml"
    file.write_text(SLOW)
    runner = subprocess.Popen(
        [ACCORD, "run", str(file), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=accord_env(data_dir),
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        executions = []
        while not executions and time.monotonic() < deadline:
            time.sleep(0.5)
            executions = json_of(accord("executions", "list", "--json"))
        assert executions, "the run never started"
        watched = accord("executions", "watch", executions[0]["id"][:8], timeout=180).stdout
        out, err = runner.communicate(timeout=180)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err
    report = json_of(subprocess.CompletedProcess([], 0, out, err))
    assert report["executionId"] == executions[0]["id"]
    # The watcher saw the whole run, in order, and ended with it.
    assert watched.index("Kim started Draft it") < watched.index("Lou started Polish it")
    assert "execution completed" in watched and "Execution completed" in watched

    shown = json_of(accord("executions", "show", report["executionId"], "--json"))
    assert shown["status"] == "completed"
    assert [(r["stepId"], r["attempt"], r["status"]) for r in shown["stepRuns"]] == [
        ("draft", 1, "completed"),
        ("polish", 1, "completed"),
    ]
    assert shown["usage"] == report["usage"]
