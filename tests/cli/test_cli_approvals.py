"""`accord approvals list|approve|reject` as a subprocess, against an engine in this test
process whose attempt waits for approval: the command's decision wakes it across processes."""

import asyncio
import uuid
from pathlib import Path

from engine.conftest import add_agents, add_workflow, steps

from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.approvals import ApprovalRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.users import UserRepository
from cli.conftest import Accord, json_of


async def test_a_decision_from_the_command_line_reaches_the_waiting_attempt(
    accord: Accord, data_dir: Path
) -> None:
    accord("agents", "list")  # makes the database and the local user
    db = Database(f"sqlite:///{data_dir / 'accord.db'}")
    with db.session() as s:
        (user,) = UserRepository(s).list()
    workflow = add_workflow(db, user.id, add_agents(db, user.id, ["developer"]), steps("write"))
    engine = Engine(
        db,
        LatencyPerformer(ask_approval={"write": ("files", "write_file")}),
        executor_id=f"test-{uuid.uuid4().hex[:8]}",
        state_dir=data_dir,
    )
    await engine.start()
    try:
        execution = await engine.start_execution(workflow, user.id)
        async with asyncio.timeout(20):
            while not (waiting := _pending(db, user.id)):
                await asyncio.sleep(0.05)

        listed = (await asyncio.to_thread(accord, "approvals", "list")).stdout
        assert waiting[0].id[:8] in listed and "files.write_file" in listed
        assert "Developer" in listed and " write " in listed
        assert '"apiKey":"[redacted]"' in listed

        said = await asyncio.to_thread(
            accord, "approvals", "reject", waiting[0].id[:8], "--reason", "not on Fridays"
        )
        assert said.stdout.strip() == (
            "Rejected files.write_file for Developer (step write): not on Fridays"
        )
        # Woken at once by the command's message (the attempt would otherwise read the
        # table again only after RECHECK_S, five minutes).
        done = await engine.wait(execution.id, 15)
    finally:
        await engine.stop()
    assert done.status == "completed"
    with db.read_session() as s:
        (run,) = StepRunRepository(s).list(execution.id)
    assert run.output["data"]["approval"]["reason"] == "not on Fridays"

    history = json_of(accord("approvals", "list", "--all", "--json"))
    assert [(a["status"], a["decidedBy"]) for a in history] == [("rejected", user.id)]
    again = accord("approvals", "approve", waiting[0].id, ok=False)
    assert again.returncode == 1
    assert "from 'rejected' to 'approved'" in again.stderr
    db.dispose()


def _pending(db: Database, user_id: str) -> list:
    with db.read_session() as s:
        return ApprovalRepository(s).list(user_id=user_id, status="pending")
