"""The live view answers tool calls waiting for approval: `accord run --auto-approve` and
the unattended demo approve each one (and say so); the decision wakes the waiting attempt."""

import asyncio
import io
import threading
import uuid
from pathlib import Path

import pytest
from engine.conftest import add_agents, add_workflow, steps
from rich.console import Console

from accord.cli.approving import approval_handler
from accord.cli.live import ExecutionView, watch_execution
from accord.cli.running import view_for
from accord.domain.execution import WorkflowExecution
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.approvals import ApprovalRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.users import UserRepository


async def watched_with_auto_approval(
    engine: Engine, db: Database, workflow: str, user_id: str, console: Console
) -> tuple[WorkflowExecution, ExecutionView, WorkflowExecution]:
    """Runs `workflow` while the live view watches it with `--auto-approve`; returns the
    execution as started, the view and the execution as it ended. Stops the engine."""
    await engine.start()
    try:
        execution = await engine.start_execution(workflow, user_id)
        view = await asyncio.to_thread(view_for, db, execution, user_id)
        ended = threading.Event()
        watching = asyncio.create_task(
            asyncio.to_thread(
                watch_execution,
                db,
                user_id=user_id,
                execution_id=execution.id,
                view=view,
                console=console,
                is_done=ended.is_set,
                on_approval=approval_handler("auto", database=db, user_id=user_id, console=console),
            )
        )
        try:
            done = await engine.wait(execution.id, 20)
        finally:
            ended.set()
            await watching
    finally:
        await engine.stop()
        db.dispose()
    return execution, view, done


async def test_the_live_view_approves_automatically_and_says_so(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.upgrade()
    with db.session() as s:
        user = UserRepository(s).create(email="me@example.test", display_name="Me")
    workflow = add_workflow(db, user.id, add_agents(db, user.id, ["developer"]), steps("write"))
    engine = Engine(
        db,
        LatencyPerformer(ask_approval={"write": ("files", "write_file")}),
        executor_id=f"test-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path,
    )
    console = Console(width=200, record=True, force_terminal=False)
    execution, view, done = await watched_with_auto_approval(engine, db, workflow, user.id, console)
    assert done.status == "completed"
    text = console.export_text()
    assert "Developer asks to call files.write_file" in text
    assert "approved files.write_file: auto-approved" in text
    with db.read_session() as s:
        (run,) = StepRunRepository(s).list(execution.id)
    assert run.output["data"]["approval"]["status"] == "approved"


async def test_a_delegated_sub_task_s_call_is_approved_too(tmp_path: Path) -> None:
    """The call waits in a child execution (a delegated sub-task), for the same user: the
    live view offers it like the parent's own (it used to be missed, and the run hung)."""
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.upgrade()
    with db.session() as s:
        user = UserRepository(s).create(email="me@example.test", display_name="Me")
    agents = add_agents(db, user.id, ["developer", "tester"])
    workflow = add_workflow(db, user.id, agents, steps("write"), workflow_type="recursive")
    engine = Engine(
        db,
        LatencyPerformer(
            delegate_to={"write": [agents[1]]},
            ask_approval={"delegated_task": ("files", "write_file")},
        ),
        executor_id=f"test-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path,
    )
    console = Console(width=200, record=True, force_terminal=False)
    execution, view, done = await watched_with_auto_approval(engine, db, workflow, user.id, console)
    assert done.status == "completed", done.error_message
    text = console.export_text()
    assert "Tester asks to call files.write_file" in text
    assert "approved files.write_file: auto-approved" in text
    assert view.steps.keys() == {"write"}  # the child's step is not taken for the parent's


def test_nobody_is_asked_without_a_terminal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    unattended = Console(force_terminal=False)
    assert approval_handler("ask", database=db, user_id="u", console=unattended) is None
    assert approval_handler("wait", database=db, user_id="u", console=unattended) is None
    assert approval_handler("auto", database=db, user_id="u", console=unattended) is not None


async def test_at_a_terminal_the_user_is_asked_and_may_approve_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`a` approves the call asked about and every later one of the run without asking."""
    monkeypatch.setattr("sys.stdin", io.StringIO("a\n"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.upgrade()
    with db.session() as s:
        user = UserRepository(s).create(email="me@example.test", display_name="Me")
    agents = add_agents(db, user.id, ["developer"])
    workflow = add_workflow(db, user.id, agents, steps("write", "publish"))
    asks = {"write": ("files", "write_file"), "publish": ("site", "publish")}
    engine = Engine(
        db,
        LatencyPerformer(ask_approval=asks),
        executor_id=f"test-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path,
    )
    screen = io.StringIO()
    console = Console(file=screen, width=200, force_terminal=True, color_system=None)
    handler = approval_handler("ask", database=db, user_id=user.id, console=console)
    assert handler is not None
    await engine.start()
    try:
        execution = await engine.start_execution(workflow, user.id)
        view = await asyncio.to_thread(view_for, db, execution, user.id)
        ended = threading.Event()
        watching = asyncio.create_task(
            asyncio.to_thread(
                watch_execution,
                db,
                user_id=user.id,
                execution_id=execution.id,
                view=view,
                console=console,
                is_done=ended.is_set,
                on_approval=handler,
            )
        )
        try:
            done = await engine.wait(execution.id, 30)
        finally:
            ended.set()
            await watching
    finally:
        await engine.stop()
    assert done.status == "completed"
    text = screen.getvalue()
    assert text.count("Allow it?") == 1 and "Developer wants to call files.write_file" in text
    assert "approved site.publish: auto-approved" in text
    with db.read_session() as s:
        decided = ApprovalRepository(s).list(user_id=user.id, execution_id=execution.id)
    db.dispose()
    assert [(a.tool, a.status.value, a.reason) for a in decided] == [
        ("write_file", "approved", None),
        ("publish", "approved", "auto-approved"),
    ]
