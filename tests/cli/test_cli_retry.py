"""`accord executions retry`: a failed run picks up from its failed step, in this process
(typer's runner calls the command as the terminal would, without a subprocess's imports)."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.main import app
from accord.domain.errors import Conflict


@pytest.fixture
def dbos_logs_kept_off_the_runner() -> Iterator[None]:
    """DBOS gives its logger a stream handler on the first engine start if it has none; made
    inside a runner call, it would write to that call's output, which the runner closes, and
    the next start would fail flushing it. A handler of our own for the test prevents that."""
    logger = logging.getLogger("dbos")
    held = logging.NullHandler()
    if not logger.handlers:
        logger.addHandler(held)
    yield
    logger.removeHandler(held)


FLOW = """\
name: Retried pair
agents:
  - name: Kim
    role: developer
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
    maxRetries: 0
"""


@pytest.mark.usefixtures("dbos_logs_kept_off_the_runner")
def test_a_failed_run_is_retried_from_its_failed_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def accord(*args: str, code: int = 0) -> str:
        done = runner.invoke(app, list(args), catch_exceptions=False)
        assert done.exit_code == code, done.output
        return done.output

    accord(
        "providers",
        "create",
        "slow",
        "--kind",
        "offline",
        "--model",
        "accord-offline",
        "--setting",
        "latencySeconds=0.5",
    )
    file = tmp_path / "pair.yaml"
    file.write_text(FLOW + "    timeoutMinutes: 0.002\n")  # 0.12 s: Lou's answer comes too late
    failed = json.loads(accord("run", str(file), "--json", code=1))
    assert failed["status"] == "failed" and failed["steps"]["polish"]["status"] == "failed"
    assert failed["steps"]["draft"]["status"] == "completed"

    file.write_text(FLOW)  # the fix: no time limit
    accord("workflows", "create", str(file))
    out = accord("executions", "retry", failed["executionId"][:8])
    assert "Execution completed" in out and "Polish it" in out

    shown = json.loads(accord("executions", "list", "--json"))
    assert [(e["executionNumber"], e["status"]) for e in shown] == [
        (2, "completed"),
        (1, "failed"),
    ]
    last = json.loads(accord("executions", "show", shown[0]["id"], "--json"))
    assert [(r["stepId"], r["status"], r["reusedFrom"]) for r in last["stepRuns"]] == [
        ("draft", "completed", failed["executionId"]),
        ("polish", "completed", None),
    ]
    assert last["retryOf"] == failed["executionId"]

    with pytest.raises(Conflict, match="only a failed or cancelled execution can be retried"):
        runner.invoke(app, ["executions", "retry", shown[0]["id"]], catch_exceptions=False)
