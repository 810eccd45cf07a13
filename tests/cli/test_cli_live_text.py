"""At a terminal the live view shows the text each running step's agent is writing, growing
as the agent writes (issue 18): a real engine runs the agent team on the slow offline model
in this process, and the view reads the live channel as `accord run` does."""

import asyncio
import io
import threading
import uuid
from pathlib import Path

from engine.conftest import add_agents, add_workflow, steps
from rich.console import Console

from accord.cli.live import watch_execution
from accord.cli.running import view_for
from accord.engine.service import Engine
from accord.llm.offline import OfflineModel
from accord.storage.db import Database
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.users import UserRepository
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam


async def test_the_live_view_shows_a_running_step_s_text_growing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.upgrade()
    with db.session() as s:
        user = UserRepository(s).create(email="me@example.test", display_name="Me")
    workflow = add_workflow(db, user.id, add_agents(db, user.id, ["writer"]), steps("notes"))
    slow = OfflineModel(latency_seconds=0.5, question_rate=0.0, feedback_rate=0.0)
    team = AgentTeam(db, models=lambda _agent: AgentModel(slow), workspaces=tmp_path / "ws")
    engine = Engine(db, team, executor_id=f"test-{uuid.uuid4().hex[:8]}", state_dir=tmp_path)
    screen = io.StringIO()
    console = Console(file=screen, width=300, force_terminal=True, color_system=None)
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
            )
        )
        try:
            done = await engine.wait(execution.id, 30)
        finally:
            ended.set()
            await watching
    finally:
        await engine.stop()
        db.dispose()

    assert done.status == "completed"
    with db.read_session() as s:
        (run,) = StepRunRepository(s).list(execution.id)
    written = " ".join(f"{run.output['summary']}\n\n{run.output['output']}".split())
    # Each redraw of the "now writing" strip shows the answer as far as it had been written
    # (its latest words): several different stages, each a part of the recorded answer.
    lines = [line for line in screen.getvalue().splitlines() if "Writer · Step notes: " in line]
    assert lines, "the live view never showed the text being written"
    stages = set()
    for line in lines:
        text = line.split("Writer · Step notes: ", 1)[1].rstrip(" │").removeprefix("…")
        if written.startswith(text) or (len(text) > 200 and text in written):
            stages.add(text)
    assert len(stages) >= 2, lines
