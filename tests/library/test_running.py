"""Running a workflow in this process: blocking, async, streamed; any kind of model; and
after a crash or Ctrl-C, the next run finishes what was cut off."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic_ai.models.test import TestModel
from sqlalchemy import func, select

import accord
from accord.llm.testing.fake_openai import FakeOpenAIServer
from accord.llm.testing.offline_responder import offline_responder
from accord.storage.db import Database
from accord.storage.tables import step_runs, workers
from tests.cli.conftest import ACCORD, accord_env
from tests.library.conftest import script_env


def team_workflow(name: str = "Brief", **agent: object) -> accord.Workflow:
    ada = accord.Agent(name="Ada", role="researcher", skills=["research"], **agent)  # type: ignore[arg-type]
    bo = accord.Agent(name="Bo", role="writer", skills=["writing"])
    return accord.Workflow(
        name=name,
        agents=[ada, bo],
        coordinator=ada,
        steps=[
            accord.Step(id="research", name="Research the topic", type="analysis", agent=ada),
            accord.Step(
                id="write",
                name="Write the brief",
                agent=bo,
                depends_on=["research"],
                review_required=True,
                reviewer_role="researcher",
            ),
        ],
    )


def test_a_blocking_run_returns_what_the_team_did_and_a_second_run_adds_an_execution(
    data_dir: Path,
):
    workflow = team_workflow()
    result = workflow.run(inputs={"topic": "durable agents"})
    assert result.completed and result.error is None
    assert [(s.step_id, s.status, s.agent) for s in result.steps.values()] == [
        ("research", "completed", "Ada"),
        ("write", "completed", "Bo"),
    ]
    write = result.steps["write"]
    assert write.result is not None and write.result.output in (result.deliverable or "")
    assert result.usage.model_calls >= 3 and result.usage.total_tokens > 0
    assert sum(s.usage.model_calls for s in result.steps.values()) <= result.usage.model_calls
    kinds = {i.interaction_type.value for i in result.interactions}
    assert "task_delegation" in kinds
    assert result.knowledge and all(k.execution_id == result.execution_id for k in result.knowledge)
    assert result.metrics.total_interactions == len(result.interactions)

    again = workflow.run()
    assert (again.execution_number, again.workflow_id) == (2, result.workflow_id)


async def test_inside_a_running_event_loop_run_arun_and_stream_all_work(data_dir: Path):
    """As in a notebook: `run` blocks (on a loop of its own), `arun` and `stream` await."""
    workflow = team_workflow()
    blocking = workflow.run()
    awaited = await workflow.arun()
    async with workflow.stream() as events:
        seen = [event async for event in events]
    assert [blocking.status, awaited.status] == ["completed", "completed"]
    assert events.result is not None and events.result.execution_number == 3
    assert [e.execution_id for e in seen] == [events.execution_id] * len(seen)
    assert [e.id for e in seen] == sorted({e.id for e in seen})  # in order, none twice
    assert seen[0].kind == "execution.created"
    assert (seen[-1].kind, seen[-1].data["status"]) == ("execution.status", "completed")
    started = [e.step_id for e in seen if e.kind == "step.started"]
    assert list(dict.fromkeys(started)) == ["research", "write"]  # (a review may send it back)
    assert {"interaction.created", "step.completed"} <= {e.kind for e in seen}


@pytest.mark.postgres
def test_runs_on_any_database_url(
    data_dir: Path, fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ACCORD_DATABASE_URL", fresh_postgres_url)
    result = team_workflow().run()
    assert result.completed
    with Database(fresh_postgres_url).read_session() as session:
        assert session.execute(select(func.count()).select_from(step_runs)).scalar_one() >= 2


def test_a_model_object_or_a_model_name_runs_and_is_metered(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    by_object = team_workflow("By object", model=TestModel(call_tools=[])).run()
    assert by_object.completed
    research = by_object.steps["research"]
    assert research.result is not None and research.usage.model_calls == 1
    assert research.usage.input_tokens > 0

    with FakeOpenAIServer(responder=offline_responder(seed=1)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        by_name = team_workflow("By name", model="openai-chat:gpt-4o-mini").run()
    assert by_name.completed, (by_name.error, {k: s.error for k, s in by_name.steps.items()})
    assert server.requests  # Ada's calls went through the OpenAI adapter
    research = by_name.steps["research"]
    assert research.usage.input_tokens > 0 and research.usage.cost_usd > 0  # gpt-4o-mini's price


def test_a_provider_that_does_not_exist_is_a_validation_error(data_dir: Path):
    with pytest.raises(accord.ValidationError) as error:
        team_workflow("No provider", model="nowhere").run()
    (problem,) = error.value.problems
    assert (problem.field, problem.message) == (
        "agents[0].provider",
        "you have no provider named 'nowhere'",
    )


def test_a_stored_workflow_whose_model_object_this_process_lacks_fails_and_says_why(
    data_dir: Path, tmp_path: Path
):
    file = team_workflow("Object elsewhere", model=TestModel(call_tools=[])).save(
        tmp_path / "elsewhere.yaml"
    )
    done = subprocess.run(
        [ACCORD, "run", str(file), "--json"],
        capture_output=True,
        text=True,
        env=accord_env(data_dir),
        timeout=180,
    )
    report = json.loads(done.stdout)
    assert (done.returncode, report["status"]) == (1, "failed")
    assert report["steps"]["research"] == {
        "status": "failed",
        "agent": "Ada",
        "agentId": report["steps"]["research"]["agentId"],
        "attempts": 1,  # not retried: it would fail the same way
    }
    assert "Ada: it runs on a Python model object (test:test)" in report["error"]


SLOW_SCRIPT = """
import json
import accord

kim = accord.Agent(name="Kim", role="dev", model=accord.OfflineModel(latency_seconds={latency}))
workflow = accord.Workflow(
    name="Three",
    agents=[kim],
    steps=[
        accord.Step(id="a", name="A"),
        accord.Step(id="b", name="B", depends_on=["a"]),
        accord.Step(id="c", name="C", depends_on=["b"]),
    ],
)
result = workflow.run()
print(json.dumps({{
    "status": result.status,
    "number": result.execution_number,
    "attempts": [s.attempts for s in result.steps.values()],
}}))
"""


def _interruptible() -> None:
    """Ctrl-C as in a terminal: a suite started in the background (`pytest &`) hands its
    children SIGINT ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_script(
    tmp_path: Path, data_dir: Path, latency: float
) -> tuple[Path, subprocess.Popen[str]]:
    script = tmp_path / "three.py"
    script.write_text(SLOW_SCRIPT.format(latency=latency))
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(data_dir),
        cwd=tmp_path,
        preexec_fn=_interruptible,
    )
    return script, process


def wait_until(process: subprocess.Popen[str], data_dir: Path, query: object) -> None:
    db = Database(f"sqlite:///{data_dir / 'accord.db'}")
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"the script never got going: {process.communicate()}")
            try:
                with db.read_session() as session:
                    if session.execute(query).scalar_one():  # type: ignore[call-overload]
                        return
            except Exception:  # the database is still being made
                pass
            time.sleep(0.1)
    finally:
        db.dispose()


def rerun(script: Path, data_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=script_env(data_dir),
        cwd=script.parent,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_a_second_run_of_the_script_finishes_the_execution_a_crash_cut_off(
    data_dir: Path, tmp_path: Path
):
    script, first = start_script(tmp_path, data_dir, latency=0.5)
    completed = select(func.count()).where(step_runs.c.status == "completed")
    wait_until(first, data_dir, completed)
    first.kill()  # kill -9 once its first step is done
    first.wait()
    assert rerun(script, data_dir) == {"status": "completed", "number": 1, "attempts": [1, 1, 1]}


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(data_dir: Path, tmp_path: Path):
    script, first = start_script(tmp_path, data_dir, latency=2)
    wait_until(first, data_dir, select(func.count()).select_from(workers))
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode != 0 and "KeyboardInterrupt" in err
    db = Database(f"sqlite:///{data_dir / 'accord.db'}")
    with db.read_session() as session:
        # retired at once (heartbeat 0): another process would take its work without waiting
        assert session.execute(select(workers.c.heartbeat_at)).scalars().all() == [0.0]
    db.dispose()
    assert rerun(script, data_dir) == {"status": "completed", "number": 1, "attempts": [1, 1, 1]}


TOOL_SCRIPT = """
import json
from pathlib import Path

import accord


@accord.tool
def record_note(note: str) -> str:
    \"\"\"Record a note (each call adds a line to calls.txt, so a second call would show).\"\"\"
    with Path("calls.txt").open("a") as calls:
        calls.write(note + "\\n")
    return "recorded"


kim = accord.Agent(
    name="Kim", role="dev", model=accord.OfflineModel(latency_seconds=1), tools=[record_note]
)
workflow = accord.Workflow(
    name="Notes",
    agents=[kim],
    steps=[
        accord.Step(id="a", name="Record note A"),
        accord.Step(id="b", name="Record note B", depends_on=["a"]),
    ],
)
result = workflow.run()
attempts = [s.attempts for s in result.steps.values()]
print(json.dumps({"status": result.status, "attempts": attempts}))
"""


def test_a_function_tool_call_recorded_before_a_crash_is_not_made_again(
    data_dir: Path, tmp_path: Path
):
    script = tmp_path / "notes.py"
    script.write_text(TOOL_SCRIPT)
    first = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(data_dir),
        cwd=tmp_path,
    )
    calls = tmp_path / "calls.txt"
    deadline = time.monotonic() + 90
    while not calls.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls.exists(), f"the tool was never called: {first.communicate()}"
    time.sleep(0.3)  # its result recorded; the model is still thinking (1 s) about it
    first.kill()
    first.wait()
    assert calls.read_text().splitlines() == ["[offline model] note for 'Record note A'"]

    assert rerun(script, data_dir) == {"status": "completed", "attempts": [1, 1]}
    assert calls.read_text().splitlines() == [
        "[offline model] note for 'Record note A'",
        "[offline model] note for 'Record note B'",
    ]


def test_function_tools_run_from_code_and_from_its_yaml_and_fail_where_missing(
    data_dir: Path, tmp_path: Path
):
    prices: list[str] = []

    @accord.tool
    def lookup_price(product: str) -> str:
        """The price of a product."""
        prices.append(product)
        return f"{product}: 12.50 EUR"

    ada = accord.Agent(name="Ada", role="sales", tools=[lookup_price])
    workflow = accord.Workflow(
        name="Prices",
        agents=[ada],
        steps=[accord.Step(id="price", name="Lookup price", agent=ada)],
    )
    result = workflow.run(inputs={"product": "widget"})
    assert result.completed, result.error
    assert prices == ["widget"]
    assert "`lookup_price`: widget: 12.50 EUR" in (result.deliverable or "")
    assert result.usage.tool_calls >= 1

    # The file names the function; this process has it, so the file runs here too.
    again = accord.Workflow.from_yaml(workflow.save(tmp_path / "prices.yaml")).run(
        inputs={"product": "gadget"}
    )
    assert again.completed and prices == ["widget", "gadget"]

    # A process that never imported the function fails the step at once, saying which.
    text = (tmp_path / "prices.yaml").read_text()
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(
        text.replace("name: Prices", "name: Prices elsewhere").replace(
            lookup_price.reference, "pricing.tools:lookup_price"
        )
    )
    failed = accord.run(elsewhere)
    assert failed.status == "failed" and failed.steps["price"].attempts == 1
    assert failed.error is not None
    assert "the function tool 'lookup_price' (pricing.tools:lookup_price)" in failed.error


def test_a_blocking_run_puts_calls_that_need_approval_to_its_approve_callback(data_dir: Path):
    reserved: list[str] = []

    @accord.tool(require_approval=True)
    def reserve_stock(product: str) -> str:
        """Reserve stock of a product."""
        reserved.append(product)
        return f"reserved {product}"

    olu = accord.Agent(name="Olu", role="operations", tools=[reserve_stock])
    workflow = accord.Workflow(
        name="Reserve",
        agents=[olu],
        steps=[accord.Step(id="reserve", name="Reserve stock", agent=olu)],
    )
    asked: list[accord.ToolApproval] = []

    def refuse(call: accord.ToolApproval) -> bool:
        asked.append(call)
        return False

    refused = workflow.run(inputs={"product": "widget"}, approve=refuse)
    assert refused.completed and reserved == []
    [call] = asked
    assert (call.server, call.tool, call.arguments, call.agent_name) == (
        "function",
        "reserve_stock",
        {"product": "widget"},
        "Olu",
    )
    assert "rejected this call: rejected by the script" in (refused.deliverable or "")

    allowed = workflow.run(inputs={"product": "gadget"}, approve=lambda _call: True)
    assert allowed.completed and reserved == ["gadget"]
