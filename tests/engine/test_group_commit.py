"""Attempts that end (or start) together share one transaction, and one bad outcome in the
batch never loses the others'."""

import asyncio
import threading

import pytest

from accord.engine.group_commit import GroupCommit


async def test_writes_arriving_during_a_commit_share_the_next_and_a_bad_one_fails_alone() -> None:
    batches: list[list[str]] = []
    first_commit_started = threading.Event()
    release_first = threading.Event()

    def commit(items: list[str]) -> list[str]:
        batches.append(list(items))
        if items == ["first"]:
            first_commit_started.set()
            release_first.wait(5)
        if "bad" in items:
            raise ValueError("bad outcome")
        return [f"{item} committed" for item in items]

    group = GroupCommit(commit)
    first = asyncio.ensure_future(group.submit("first"))
    assert await asyncio.to_thread(first_commit_started.wait, 5)
    others = [asyncio.ensure_future(group.submit(i)) for i in ("a", "bad", "b")]
    await asyncio.sleep(0.2)  # all three queue behind the commit in progress
    release_first.set()
    answers = await asyncio.gather(first, *others, return_exceptions=True)

    assert batches[0] == ["first"]
    assert sorted(batches[1]) == ["a", "b", "bad"]  # one transaction for all three
    assert answers[:2] == ["first committed", "a committed"]
    assert isinstance(answers[2], ValueError)
    assert answers[3] == "b committed"


async def test_a_lone_write_commits_at_once_and_a_cancelled_caller_stops_nothing() -> None:
    group = GroupCommit(lambda items: [len(items)] * len(items))
    assert await group.submit("only") == 1
    with pytest.raises(ZeroDivisionError):
        await GroupCommit(lambda items: [1 / 0]).submit("x")

    committed = threading.Event()

    def slow(items: list[str]) -> list[str]:
        committed.wait(5)
        return items

    slow_group = GroupCommit(slow)
    cancelled = asyncio.ensure_future(slow_group.submit("cancelled"))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    committed.set()
    assert await slow_group.submit("next") == "next"  # the writer carried on
