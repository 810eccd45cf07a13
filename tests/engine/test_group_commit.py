"""Attempts that end (or start) together share one transaction, and one bad outcome in the
batch never loses the others'."""

import threading
import time

import pytest

from accord.engine.service import GroupCommit


def test_writes_arriving_during_a_commit_share_the_next_one_and_a_bad_one_fails_alone() -> None:
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
    answers: dict[str, str | Exception] = {}

    def submit(item: str) -> None:
        try:
            answers[item] = group.submit(item)
        except ValueError as exc:
            answers[item] = exc

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    assert first_commit_started.wait(5)
    others = [threading.Thread(target=submit, args=(i,)) for i in ("a", "bad", "b")]
    for thread in others:
        thread.start()
    time.sleep(0.2)  # all three queue behind the commit in progress
    release_first.set()
    for thread in [first, *others]:
        thread.join(5)

    assert batches[0] == ["first"]
    assert sorted(batches[1]) == ["a", "b", "bad"]  # one transaction for all three
    assert answers["first"] == "first committed"
    assert answers["a"] == "a committed"
    assert answers["b"] == "b committed"
    assert isinstance(answers["bad"], ValueError)


def test_a_lone_write_commits_at_once() -> None:
    group = GroupCommit(lambda items: [len(items)] * len(items))
    assert group.submit("only") == 1
    with pytest.raises(ZeroDivisionError):
        GroupCommit(lambda items: [1 / 0]).submit("x")
