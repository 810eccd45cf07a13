"""The terminal watcher reads the event log as the server's feed does: it never skips an event
that commits after a higher one (Postgres takes IDs at insert and shows rows at commit)."""

import io
import time
import uuid

import pytest
from rich.console import Console
from server.conftest import append_event, insert_execution
from sqlalchemy import insert

from accord.cli.live import ExecutionView, latest_event_id, watch_execution
from accord.storage.db import Database
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import execution_events


def question(message: str) -> dict[str, str]:
    return {"interactionType": "question", "fromAgentId": "a1", "message": message}


@pytest.mark.postgres
def test_the_watcher_shows_an_event_committed_after_a_higher_one(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.upgrade()
    try:
        with db.session() as s:
            user_id = (
                UserRepository(s)
                .create(email=f"{uuid.uuid4().hex[:10]}@example.test", display_name="Me")
                .id
            )
        execution_id = insert_execution(db, user_id)
        view = ExecutionView.for_definition(
            execution_id,
            title="wf",
            definition={"configuration": {"steps": [{"id": "plan", "name": "Plan"}]}},
            agent_names={"a1": "Ada"},
        )
        view.last_event_id = latest_event_id(db)

        # One session takes an ID and commits late; another takes the next and commits now.
        slow = db.engine.connect()
        slow_tx = slow.begin()
        late_id = slow.execute(
            insert(execution_events)
            .values(
                execution_id=execution_id,
                user_id=user_id,
                kind="interaction.created",
                data=question("late"),
                created_at=time.time(),
            )
            .returning(execution_events.c.id)
        ).scalar_one()
        early_id = append_event(
            db,
            execution_id=execution_id,
            user_id=user_id,
            kind="interaction.created",
            data=question("early"),
        )
        assert early_id > late_id

        polls = 0

        def is_done() -> bool:
            """Asked after each read: the late event commits once the watcher has read the
            log three times with it in flight (and "early" visible); then a few more reads."""
            nonlocal polls
            polls += 1
            if polls == 3:
                slow_tx.commit()
                slow.close()
            return polls >= 6

        screen = io.StringIO()
        console = Console(file=screen, width=200, force_terminal=False, color_system=None)
        watch_execution(
            db,
            user_id=user_id,
            execution_id=execution_id,
            view=view,
            console=console,
            is_done=is_done,
            poll_seconds=0.05,
        )
        feed = [line for line in screen.getvalue().splitlines() if line.startswith("[question]")]
        assert feed == ["[question] Ada: late", "[question] Ada: early"]
    finally:
        db.dispose()
