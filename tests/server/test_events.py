"""Live events over SSE, fed from the event log whoever writes it."""

import itertools
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import insert

from accord.storage.repositories.events import SettledHorizon
from accord.storage.tables import execution_events
from server.conftest import ApiUser, LiveServer, append_event, insert_execution, make_user


def iter_frames(response: httpx.Response) -> Iterator[dict]:
    """The SSE events of a streaming response as they arrive, parsed (comments skipped)."""
    current: dict = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if current:
                yield current
                current = {}
            continue
        key, _, value = line.partition(": ")
        current[key] = value


def read_frames(response: httpx.Response, count: int) -> list[dict]:
    return list(itertools.islice(iter_frames(response), count))


def stream(user: ApiUser, path: str, last_event_id: int | None = None) -> Iterator[httpx.Response]:
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    return user.api.stream("GET", path, headers=headers, timeout=httpx.Timeout(10, read=10))


def test_an_execution_run_by_another_process_streams_live(any_live_server: LiveServer) -> None:
    alice = make_user(any_live_server)
    db = any_live_server.db
    execution_id = insert_execution(db, alice.id)
    first = append_event(
        db,
        execution_id=execution_id,
        user_id=alice.id,
        kind="execution.created",
        data={"executionNumber": 1},
    )

    def write_later() -> None:
        time.sleep(0.5)
        append_event(
            db,
            execution_id=execution_id,
            user_id=alice.id,
            kind="step.started",
            step_id="plan",
            data={"attempt": 1, "agentId": "a1", "reason": "r"},
        )

    writer = threading.Thread(target=write_later)
    writer.start()
    with stream(alice, f"/executions/{execution_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = read_frames(response, 2)
    writer.join()

    assert [f["event"] for f in frames] == ["execution.created", "step.started"]
    assert int(frames[0]["id"]) == first and int(frames[1]["id"]) > first
    started = json.loads(frames[1]["data"])
    assert started["executionId"] == execution_id and started["stepId"] == "plan"
    assert started["data"] == {"attempt": 1, "agentId": "a1", "reason": "r"}
    assert started["id"] == int(frames[1]["id"])


def test_last_event_id_resumes_after_the_last_event_seen(
    live_server: LiveServer, alice: ApiUser
) -> None:
    db = live_server.db
    execution_id = insert_execution(db, alice.id)
    ids = [
        append_event(db, execution_id=execution_id, user_id=alice.id, kind=f"k{i}")
        for i in range(4)
    ]
    with stream(alice, f"/executions/{execution_id}/events", last_event_id=ids[1]) as response:
        frames = read_frames(response, 2)
    assert [int(f["id"]) for f in frames] == ids[2:]


def test_the_users_stream_carries_all_of_their_executions_and_no_one_elses(
    live_server: LiveServer, alice: ApiUser, bob: ApiUser
) -> None:
    db = live_server.db
    one, two = insert_execution(db, alice.id), insert_execution(db, alice.id)
    bobs = insert_execution(db, bob.id)
    start = append_event(db, execution_id=one, user_id=alice.id, kind="before")
    append_event(db, execution_id=bobs, user_id=bob.id, kind="bob.secret")
    append_event(db, execution_id=one, user_id=alice.id, kind="first")
    append_event(db, execution_id=two, user_id=alice.id, kind="second")
    with stream(alice, "/events", last_event_id=start) as response:
        frames = read_frames(response, 2)
    assert [(f["event"], json.loads(f["data"])["executionId"]) for f in frames] == [
        ("first", one),
        ("second", two),
    ]


def test_another_users_execution_stream_is_not_found(
    live_server: LiveServer, alice: ApiUser, bob: ApiUser
) -> None:
    bobs = insert_execution(live_server.db, bob.id)
    response = alice.api.get(f"/executions/{bobs}/events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_event_behind_an_uncommitted_id_waits_for_it_then_both_go_in_order() -> None:
    """Postgres makes IDs visible out of order; the stream must not jump past a gap."""
    settled = SettledHorizon(horizon=10, grace_seconds=2.0)
    assert settled.advance([11, 13], now=100.0) == 11  # 12 is still in flight
    assert settled.advance([13], now=101.0) == 11
    assert settled.advance([12, 13], now=101.5) == 13  # 12 committed: both go, in order


def test_a_gap_that_never_fills_is_given_up_after_the_grace_period() -> None:
    settled = SettledHorizon(horizon=10, grace_seconds=2.0)
    assert settled.advance([12], now=100.0) == 10  # 11 rolled back, but we cannot know yet
    assert settled.advance([12], now=101.9) == 10
    assert settled.advance([12, 14], now=102.0) == 12
    assert settled.advance([14], now=104.0) == 14


def test_a_gap_below_an_event_older_than_the_grace_period_is_not_waited_for() -> None:
    """Reading old history (a watcher of a past execution) never stalls on its gaps."""
    settled = SettledHorizon(horizon=10, grace_seconds=2.0)
    assert settled.advance([12, 14, 16], now=100.0, settled_up_to=14) == 14  # 13 still waits
    assert settled.advance([16], now=100.5) == 14  # 15 is a fresh gap: still waited for


@pytest.mark.postgres
def test_an_event_committed_late_on_postgres_is_still_sent_in_order(
    pg_live_server: LiveServer,
) -> None:
    """Postgres hands out IDs at insert and shows rows at commit: event N+1 can be visible
    while N is in flight. The stream must wait for N, not skip it."""
    alice = make_user(pg_live_server)
    db = pg_live_server.db
    execution_id = insert_execution(db, alice.id)
    append_event(db, execution_id=execution_id, user_id=alice.id, kind="start")

    slow = db.engine.connect()
    slow_tx = slow.begin()
    late_id = slow.execute(
        insert(execution_events)
        .values(
            execution_id=execution_id,
            user_id=alice.id,
            kind="late",
            data={},
            created_at=time.time(),
        )
        .returning(execution_events.c.id)
    ).scalar_one()
    early_id = append_event(db, execution_id=execution_id, user_id=alice.id, kind="early")
    assert early_id > late_id

    def commit_later() -> None:
        time.sleep(0.3)
        slow_tx.commit()
        slow.close()

    committer = threading.Thread(target=commit_later)
    with stream(alice, f"/executions/{execution_id}/events") as response:
        frames = iter_frames(response)
        assert next(frames)["event"] == "start"  # the stream is live, "late" still in flight
        committer.start()
        received = [next(frames), next(frames)]
    committer.join()
    assert [(int(f["id"]), f["event"]) for f in received] == [
        (late_id, "late"),
        (early_id, "early"),
    ]
