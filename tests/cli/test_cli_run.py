"""`accord run FILE --json` runs every example end to end on the offline model.

The examples run at once, each in its own data directory (a module fixture starts them all),
so the suite waits for the slowest, not for their sum.
"""

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.storage.db import Database
from accord.storage.tables import step_runs
from accord.storage.testing import scratch_postgres_database
from tests.cli.conftest import ACCORD, EXAMPLES, Accord, accord_env, json_of, slow_provider

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
FEATURE_REQUEST = "Please add a dark mode to the dashboard; users would like it at night."
ON_POSTGRES = "code-review.yaml"
"""Also run on Postgres (ACCORD_DATABASE_URL), in a database of its own."""
DATA_DIRS: dict[str, Path] = {}
"""Each example run's data directory (its executions' workspaces are in there)."""


@pytest.fixture(scope="module")
def postgres_database() -> Any:
    with scratch_postgres_database("accord_cli") as url:
        yield url


@pytest.fixture(scope="module")
def example_runs(
    tmp_path_factory: pytest.TempPathFactory, postgres_database: str
) -> dict[str, subprocess.Popen[str]]:
    runs = {}
    jobs: list[tuple[str, Path, dict[str, str], list[str]]] = [
        (p.name, p, {}, []) for p in EXAMPLE_FILES
    ]
    jobs.append(
        (
            f"postgres:{ON_POSTGRES}",
            EXAMPLES / ON_POSTGRES,
            {"ACCORD_DATABASE_URL": postgres_database},
            [],
        )
    )
    jobs.append(
        (
            "feature:conditional-triage.yaml",
            EXAMPLES / "conditional-triage.yaml",
            {},
            ["--input", f"report={FEATURE_REQUEST}"],
        )
    )
    for key, path, extra_env, args in jobs:
        data_dir = tmp_path_factory.mktemp(path.stem)
        DATA_DIRS[key] = data_dir
        runs[key] = subprocess.Popen(
            [ACCORD, "run", str(path), "--json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=accord_env(data_dir) | extra_env,
            cwd=data_dir,
        )
    yield runs
    for process in runs.values():
        if process.poll() is None:
            process.kill()


def result_of(runs: dict[str, subprocess.Popen[str]], name: str) -> dict[str, Any]:
    out, err = runs[name].communicate(timeout=240)
    assert runs[name].returncode == 0, f"accord run {name} failed:\n{out}\n{err}"
    report = json.loads(out)
    assert report["status"] == "completed" and report["error"] is None
    assert report["usage"]["modelCalls"] > 0 and report["usage"]["totalTokens"] > 0
    assert report["knowledgeItems"] > 0
    assert report["interactions"]["task_delegation"] >= 1
    assert report["deliverable"]["markdown"].strip()  # every example hands something over
    assert set(report["metrics"]) >= {
        "totalInteractions",
        "collaborationScore",
        "efficiencyRating",
        "qualityScore",
    }
    return report


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_code_review_pipeline(example_runs, backend: str):
    key = "code-review.yaml" if backend == "sqlite" else f"postgres:{ON_POSTGRES}"
    report = result_of(example_runs, key)
    assert list(report["steps"]) == ["analyse", "implement", "document"]
    assert all(s["status"] == "completed" for s in report["steps"].values())
    assert report["steps"]["analyse"]["agent"] == "Maya"  # the step's preferred agent
    # The review of `implement` finds a criterion nothing supports and sends it back once.
    assert report["steps"]["implement"]["attempts"] == 2
    assert report["metrics"]["evidence"]["collaboration"]["counts"]["reviews"] == 2
    assert report["metrics"]["evidence"]["quality"]["counts"]["changeRequests"] == 1
    assert report["deliverable"]["stepIds"] == ["document"]


def test_parallel_research(example_runs):
    report = result_of(example_runs, "parallel-research.yaml")
    steps = report["steps"]
    assert all(s["status"] == "completed" for s in steps.values()) and len(steps) == 5
    assert steps["plan"]["agent"] == steps["merge"]["agent"] == "Lead"
    assert report["deliverable"]["stepIds"] == ["merge"]
    assert {steps[s]["agent"] for s in ("technology", "users", "market")} <= {
        "Lead",
        "Tess",
        "Uma",
        "Finn",
    }


@pytest.mark.parametrize(
    ("run", "taken", "skipped"),
    [
        ("conditional-triage.yaml", "fix", "specify"),
        ("feature:conditional-triage.yaml", "specify", "fix"),
    ],
    ids=["timeout-report-is-a-bug", "request-is-a-feature"],
)
def test_conditional_triage_takes_the_branch_the_evidence_calls_for(
    example_runs, run: str, taken: str, skipped: str
):
    """The example's own report (an export that times out) is a bug; a request for a new
    capability given as input is a feature: the votes follow the evidence, and so does the
    branch."""
    report = result_of(example_runs, run)
    steps = report["steps"]
    assert steps["triage"]["status"] == steps["classify"]["status"] == "completed"
    assert (steps[taken]["status"], steps[skipped]["status"]) == ("completed", "skipped")
    assert steps[skipped]["attempts"] == 0 and steps[skipped]["agent"] is None
    taken = "specify" if skipped == "fix" else "fix"
    assert report["deliverable"]["stepIds"] == [taken]  # the end of the branch that ran


def test_recursive_release_runs_its_nested_team(example_runs):
    report = result_of(example_runs, "recursive-release.yaml")
    assert all(s["status"] == "completed" for s in report["steps"].values())
    assert report["childExecutions"] == 1
    # The report and the metrics count the same rows: the nested team's included.
    metrics = report["metrics"]
    assert sum(report["interactions"].values()) == metrics["totalInteractions"]
    assert report["knowledgeItems"] == metrics["knowledgeItemsCreated"]
    assert metrics["evidence"]["executions"] == 2


def test_security_audit_runs_on_its_own(example_runs):
    report = result_of(example_runs, "security-audit.yaml")
    steps = report["steps"]
    assert [steps[s]["agent"] for s in ("threats", "dependencies")] == ["Sam", "Ivy"]
    assert steps["verdict"]["status"] == "completed"  # the two auditors agree on a verdict
    assert report["interactions"]["coordination"] >= 3  # two votes and the outcome


def test_folder_audit_reads_the_folder_and_writes_its_report_through_the_mcp_server(
    example_runs,
):
    report = result_of(example_runs, "folder-audit.yaml")
    assert [s["agent"] for s in report["steps"].values()] == ["Iris", "Theo"]
    assert report["usage"]["toolCalls"] >= 4  # directories, a listing, reads, the report
    [written] = (DATA_DIRS["folder-audit.yaml"] / "workspaces" / report["executionId"]).iterdir()
    text = written.read_text()
    assert "[offline model]" in text and "folder-audit.yaml" in text
    assert "TODO/FIXME marker(s)" in text  # this very file names the markers it looks for


def test_release_notes_are_published_by_the_python_mcp_server(example_runs):
    report = result_of(example_runs, "release-notes.yaml")
    assert report["usage"]["toolCalls"] >= 3  # the changes, their count, the publishing
    assert report["usage"]["toolSeconds"] > 0
    workspace = DATA_DIRS["release-notes.yaml"] / "workspaces" / report["executionId"]
    notes = (workspace / "RELEASE_NOTES-next.md").read_text()
    assert "Agents call MCP servers' tools during a step" in notes  # from changes.json


def test_every_example_has_a_test():
    tested = {
        "folder-audit.yaml",
        "release-notes.yaml",
        "code-review.yaml",
        "parallel-research.yaml",
        "conditional-triage.yaml",
        "recursive-release.yaml",
        "security-audit.yaml",
    }
    assert {p.name for p in EXAMPLE_FILES} == tested


def test_running_a_file_again_adds_an_execution_and_live_output_ends_in_a_summary(
    accord: Accord, tmp_path: Path
):
    file = tmp_path / "tiny.yaml"
    file.write_text(
        "name: Tiny\nagents:\n  - name: Solo\n    role: developer\n"
        "steps:\n  - id: only\n    name: Do it\n"
    )
    first = accord("run", str(file))
    assert "Solo started Do it" in first.stdout  # the feed, printed as a log off a terminal
    assert "Execution completed" in first.stdout and "knowledge items" in first.stdout
    second = json_of(accord("run", str(file), "--json"))
    assert second["executionNumber"] == 2, "the same workflow ran again"


def test_an_invalid_file_is_refused_before_anything_runs(accord: Accord, tmp_path: Path):
    file = tmp_path / "bad.yaml"
    file.write_text(
        "name: Bad\nagents:\n  - name: Solo\n    role: dev\nsteps:\n"
        "  - id: a\n    name: A\n    agent: Nobody\n"
    )
    done = accord("run", str(file), "--json", ok=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "bad.yaml:8: steps[0].agent" in done.stderr

    file.write_text(
        "name: Bad\nagents:\n  - name: Solo\n    role: dev\n    provider: work\n"
        "steps:\n  - id: a\n    name: A\n"
    )
    done = accord("run", str(file), ok=False)
    assert done.returncode == 1
    assert "bad.yaml:5: agents[0].provider: you have no provider named 'work'" in done.stderr
    assert json_of(accord("workflows", "list", "--json")) == [], "nothing was created"


def test_a_template_runs_with_a_cast_of_offline_agents(accord: Accord):
    report = json_of(accord("run", "--template", "parallel-analysis", "--json"))
    assert report["status"] == "completed"
    assert list(report["steps"]) == ["scope", "security", "performance", "usability", "synthesis"]
    agents = {a["name"]: a["role"] for a in json_of(accord("agents", "list", "--json"))}
    assert set(agents.values()) == {"analyst", "security", "performance"}
    assert {s["agent"] for s in report["steps"].values()} <= set(agents)
    row = next(
        line for line in accord("templates", "list").stdout.splitlines() if "parallel" in line
    )
    assert "100%" in row and "10000%" not in row  # one run, completed


def test_the_exit_code_says_the_execution_did_not_complete(accord: Accord, tmp_path: Path):
    slow_provider(accord, 2)
    file = tmp_path / "slow.yaml"
    file.write_text(
        "name: Slow\nagents:\n  - name: Kim\n    role: dev\n    provider: slow\n"
        "steps:\n  - id: a\n    name: A\n  - id: b\n    name: B\n"
    )
    done = accord("run", str(file), "--json", "--timeout", "1", ok=False)
    assert done.returncode == 1
    report = json_of(done)
    assert report["status"] == "cancelled"
    assert report["error"] == "not finished within accord run's --timeout of 1 s"
    assert report["steps"]["b"] == {  # never started: closed with the execution
        "status": "cancelled",
        "agent": None,
        "agentId": None,
        "attempts": 0,
    }


def test_workers_list_shows_the_process_that_ran_a_workflow_and_that_it_stopped(accord: Accord):
    assert json_of(accord("workers", "list", "--json")) == []
    accord("run", "--template", "research-brief", "--json")
    (process,) = json_of(accord("workers", "list", "--json"))
    assert process["role"] == "run"
    assert process["state"] == "stopped"  # a clean stop retires the process at once
    assert process["runningAttempts"] == 0
    table = accord("workers", "list").stdout
    assert process["executorId"] in table and "stopped" in table


def test_running_a_file_again_after_a_crash_finishes_the_cut_off_execution(
    accord: Accord, data_dir: Path, tmp_path: Path
):
    """A run killed mid-way is picked up by running the same file again: the same workflow,
    the same execution, each step done once; not a second workflow of the same name."""
    slow_provider(accord, 0.5)
    file = tmp_path / "three.yaml"
    file.write_text(
        "name: Three\nagents:\n  - name: Kim\n    role: dev\n    provider: slow\n"
        "steps:\n  - id: a\n    name: A\n  - id: b\n    name: B\n    dependsOn: [a]\n"
        "  - id: c\n    name: C\n    dependsOn: [b]\n"
    )
    first = run_in_background(file, data_dir, tmp_path, until=completed_runs)
    first.kill()  # once its first step is done
    first.wait()

    report = json_of(accord("run", str(file), "--json"))
    assert report["status"] == "completed"
    assert report["executionNumber"] == 1
    assert {s["status"] for s in report["steps"].values()} == {"completed"}
    assert [s["attempts"] for s in report["steps"].values()] == [1, 1, 1]
    assert [w["name"] for w in json_of(accord("workflows", "list", "--json"))] == ["Three"]


def completed_runs(db: Database) -> int:
    with db.read_session() as s:
        return s.execute(select(func.count()).where(step_runs.c.status == "completed")).scalar_one()


def test_sigterm_stops_a_run_cleanly_so_its_execution_is_handed_on_at_once(
    accord: Accord, data_dir: Path, tmp_path: Path
):
    slow_provider(accord, 5)
    file = tmp_path / "one.yaml"
    file.write_text(
        "name: One\nagents:\n  - name: Kim\n    role: dev\n    provider: slow\n"
        "steps:\n  - id: a\n    name: A\n"
    )
    run = run_in_background(file, data_dir, tmp_path, until=started_runs)
    run.send_signal(signal.SIGTERM)  # once its step is under way
    run.wait(30)
    (process,) = json_of(accord("workers", "list", "--json"))
    assert process["state"] == "stopped"  # retired: another process takes its work at once
    (execution,) = json_of(accord("executions", "list", "--json"))
    assert execution["status"] == "running"  # stopped, not cancelled: it is to be resumed


def started_runs(db: Database) -> int:
    """Step attempts under way: the engine has started and the execution with it (a
    registered worker alone comes before the execution is made)."""
    with db.read_session() as s:
        return s.execute(select(func.count()).select_from(step_runs)).scalar_one()


def run_in_background(
    file: Path, data_dir: Path, tmp_path: Path, *, until: Callable[[Database], object]
) -> subprocess.Popen[bytes]:
    """`accord run FILE` in a process of its own, returned once `until(database)` holds."""
    run = subprocess.Popen(
        [ACCORD, "run", str(file), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=accord_env(data_dir),
        cwd=tmp_path,
    )
    db = Database(f"sqlite:///{data_dir / 'accord.db'}")
    try:
        deadline = time.monotonic() + 60
        while not until(db):
            if time.monotonic() > deadline or run.poll() is not None:
                run.kill()
                raise AssertionError("the run never got going")
            time.sleep(0.1)
    finally:
        db.dispose()
    return run
