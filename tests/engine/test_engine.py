"""The engine end to end on real databases (SQLite and Postgres via `db`), with DBOS."""

import asyncio
import json

import pytest
from sqlalchemy import insert, select, update

from accord.domain.enums import InteractionType
from accord.domain.errors import IllegalTransition
from accord.domain.ports import Assignment
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.tables import collaboration_workflows, new_id, workflow_executions

from .conftest import MakeWorkflow, steps


def runs_of(db: Database, execution_id: str):
    with db.session() as s:
        return StepRunRepository(s).list(execution_id)


async def until(check, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def workflow_row(db: Database, workflow_id: str):
    with db.session() as s:
        return s.execute(
            select(collaboration_workflows).where(collaboration_workflows.c.id == workflow_id)
        ).one()


def events_of(db: Database, user_id: str, execution_id: str):
    with db.session() as s:
        return EventRepository(s).of_execution(user_id=user_id, execution_id=execution_id)


async def test_pipeline_runs_in_order_and_completes_the_workflow(
    engine: Engine, make_workflow: MakeWorkflow, db: Database, user_id: str
) -> None:
    wf = make_workflow(steps("plan", "build", "ship"))
    started = await engine.start_execution(wf, user_id)
    assert started.execution_number == 1 and started.status == "running"
    assert workflow_row(db, wf).status == "active"
    done = await engine.wait(started.id, 20)
    assert done.status == "completed"
    runs = runs_of(db, done.id)
    assert [r.step_id for r in runs] == ["plan", "build", "ship"]
    assert all(r.status == "completed" and r.agent_id for r in runs)
    assert runs[0].finished_at <= runs[1].started_at
    # each step saw its predecessor's result
    assert json.loads(done.step_results["ship"]["output"])["inputs"] == ["build"]
    assert set(done.final_output) == {"ship"}
    assert done.actual_duration is not None and done.completed_at is not None
    row = workflow_row(db, wf)
    assert row.status == "completed" and row.final_result == done.final_output
    assert [h["stepId"] for h in row.execution_history] == ["plan", "build", "ship"]
    assert row.execution_history[0]["result"] == "plan done (attempt 1)"
    kinds = [e.kind for e in events_of(db, user_id, done.id)]
    assert kinds[:2] == ["execution.created", "execution.status"]
    assert kinds.count("step.started") == 3 and kinds.count("step.completed") == 3
    assert kinds[-1] == "execution.status"


async def test_parallel_respects_concurrency_and_keeps_every_result(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.latency_s = 0.05
    ids = [f"p{i}" for i in range(8)]
    wf = make_workflow(
        [*steps("start"), *steps(*ids, dependsOn=["start"]), *steps("merge", dependsOn=ids)],
        "parallel",
        maxConcurrency=3,
    )
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "completed"
    runs = runs_of(db, done.id)
    parallel = [r for r in runs if r.step_id in ids]
    peak = max(
        sum(1 for o in parallel if o.started_at <= r.started_at < o.finished_at) for r in parallel
    )
    assert peak == 3
    assert set(done.step_results) == {"start", *ids, "merge"}
    for step_id, result in done.step_results.items():
        assert result["data"]["step"] == step_id
    assert json.loads(done.step_results["merge"]["output"])["inputs"] == sorted(ids)


async def test_parallel_execution_off_runs_one_at_a_time(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.latency_s = 0.02
    wf = make_workflow(steps("a", "b", "c"), "parallel", allowParallelExecution=False)
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    runs = sorted(runs_of(db, done.id), key=lambda r: r.started_at)
    assert all(a.finished_at <= b.started_at for a, b in zip(runs, runs[1:], strict=False))


async def test_conditional_records_skipped_branches(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.data = {"choose": {"outcome": "rewrite"}}
    wf = make_workflow(
        [
            {
                "id": "choose",
                "name": "Choose",
                "type": "decision",
                "decisionOptions": ["rewrite", "patch"],
            },
            {
                "id": "rewrite",
                "name": "R",
                "dependsOn": ["choose"],
                "condition": 'decisions.choose.outcome == "rewrite"',
            },
            {
                "id": "patch",
                "name": "P",
                "dependsOn": ["choose"],
                "condition": 'decisions.choose.outcome == "patch"',
            },
            {"id": "merge", "name": "M", "dependsOn": ["rewrite", "patch"]},
        ],
        "conditional",
    )
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "completed"
    status = {r.step_id: r.status for r in runs_of(db, done.id)}
    assert status == {
        "choose": "completed",
        "rewrite": "completed",
        "patch": "skipped",
        "merge": "completed",
    }
    skipped = [e for e in events_of(db, user_id, done.id) if e.kind == "step.skipped"]
    assert skipped[0].step_id == "patch" and "condition is false" in skipped[0].data["reason"]


async def test_retries_with_backoff_then_succeeds(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.fail_first = {"flaky": 2}
    wf = make_workflow(steps("flaky", maxRetries=2))
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "completed"
    runs = runs_of(db, done.id)
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "failed"), (3, "completed")]
    # backoff base 0.01 s: the second retry waited at least twice the first's delay
    assert (runs[2].started_at - runs[1].finished_at).total_seconds() >= 0.02
    kinds = [e.kind for e in events_of(db, user_id, done.id)]
    assert kinds.count("step.retrying") == 2


async def test_failure_past_retries_fails_execution_and_workflow(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.fail_first = {"b": 99}
    wf = make_workflow(steps("a", "b", "c", maxRetries=1))
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "failed"
    assert "'b'" in done.error_message and "scripted failure 2" in done.error_message
    # The step that never ran ends skipped, saying why, in its row and in the event log.
    never_ran = runs_of(db, done.id)[-1]
    assert (never_ran.step_id, never_ran.status, never_ran.started_at) == ("c", "skipped", None)
    assert never_ran.error == f"not run: the execution failed: {done.error_message}"
    skipped = [
        (e.step_id, e.data) for e in events_of(db, user_id, done.id) if e.kind == "step.skipped"
    ]
    assert skipped == [("c", {"reason": never_ran.error})]
    assert workflow_row(db, wf).status == "failed"
    again = await engine.start_execution(wf, user_id)  # failed -> may start again
    assert again.execution_number == 2


async def test_rework_sends_feedback_to_the_next_attempt(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.rework_first = {"draft": 1}
    wf = make_workflow(steps("draft", maxRetries=2))
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "completed"
    runs = runs_of(db, done.id)
    assert runs[1].feedback == "please improve (round 1)"
    assert json.loads(done.step_results["draft"]["output"])["feedback"] == runs[1].feedback


async def test_step_timeout_fails_the_attempt_and_retries(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.hang = {"slow": 30}
    wf = make_workflow(steps("slow", timeoutMinutes=0.003, maxRetries=1))
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "failed"
    runs = runs_of(db, done.id)
    assert [r.status for r in runs] == ["failed", "failed"]
    assert "timed out after 0.003 minutes" in runs[0].error


async def test_max_execution_time_fails_a_running_execution(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.hang = {"long": 30}
    wf = make_workflow(steps("long"), maxExecutionTime=1.5)  # seconds, as the spec counts
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "failed" and "maxExecutionTime of 1.5 seconds" in done.error_message
    assert [r.status for r in runs_of(db, done.id)] == ["cancelled"]
    assert workflow_row(db, wf).status == "failed"


async def test_pause_resume_cancel_and_illegal_transitions(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    performer.latency_s = 0.1
    wf = make_workflow(steps("a", "b", "c"))
    execution = await engine.start_execution(wf, user_id)
    with pytest.raises(IllegalTransition) as err:
        await engine.start_execution(wf, user_id)  # the workflow is active
    assert err.value.current == "active"
    await until(lambda: [r.status for r in runs_of(db, execution.id)] == ["running"])
    paused = await engine.pause(execution.id, user_id)
    assert paused.status == "paused" and workflow_row(db, wf).status == "paused"
    with pytest.raises(IllegalTransition) as err:
        await engine.pause(execution.id, user_id)
    assert err.value.current == "paused"
    await asyncio.sleep(0.4)  # the running attempt finishes; nothing new starts
    assert [r.status for r in runs_of(db, execution.id)] == ["completed"]
    await engine.resume(execution.id, user_id)
    await asyncio.sleep(0.05)
    cancelled = await engine.cancel(execution.id, user_id)
    assert cancelled.status == "cancelled"
    with pytest.raises(IllegalTransition) as err:
        await engine.cancel(execution.id, user_id)
    # The message reads as a sentence: the status's value, never its enum repr.
    assert err.value.message.endswith("from 'cancelled' to 'cancelled'"), err.value.message
    # The running step and the one that never started both end cancelled, saying why; the
    # event log, which live views are built from, says so too.
    assert [(r.step_id, r.status, r.error) for r in runs_of(db, execution.id)] == [
        ("a", "completed", None),
        ("b", "cancelled", "cancelled by the user"),
        ("c", "cancelled", "not run: cancelled by the user"),
    ]
    assert [
        (e.step_id, e.data["reason"])
        for e in events_of(db, user_id, execution.id)
        if e.kind == "step.cancelled"
    ] == [("b", "cancelled by the user"), ("c", "not run: cancelled by the user")]
    # A cancel is no verdict: the workflow, never completed nor failed, is a draft again.
    assert workflow_row(db, wf).status == "draft"
    with pytest.raises(IllegalTransition) as err:
        await engine.resume(execution.id, user_id)
    assert err.value.current == "cancelled"
    rerun = await engine.rerun(execution.id, user_id)
    assert rerun.execution_number == 2
    assert (await engine.wait(rerun.id, 20)).status == "completed"
    third = await engine.start_execution(wf, user_id)
    await engine.cancel(third.id, user_id)
    assert workflow_row(db, wf).status == "completed"  # back to its latest outcome


async def test_sub_workflow_and_delegation_run_as_child_executions(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    db: Database,
    user_id: str,
) -> None:
    child_wf = make_workflow(steps("inner1", "inner2"))
    performer.delegate_to = {"lead": [agent_ids[1]]}
    wf = make_workflow(
        [
            {"id": "lead", "name": "Lead"},
            {"id": "nested", "name": "Nested", "dependsOn": ["lead"], "subWorkflowId": child_wf},
        ],
        "recursive",
    )
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 30)
    assert done.status == "completed", done.error_message
    with db.session() as s:
        children = ExecutionRepository(s).children(done.id)
    assert {c.parent_step_id for c in children} == {"lead", "nested"}
    assert all(c.depth == 1 and c.status == "completed" for c in children)
    delegated = next(c for c in children if c.parent_step_id == "lead")
    assert delegated.agent_assignments == {"delegated_task": agent_ids[1]}
    assert done.step_results["lead"]["data"]["children"] == [delegated.id]
    # The delegating attempt hears of its child before the child runs (the team names it in
    # the delegation's relatedTaskId while the delegate works).
    assert performer.children_started == [(delegated.id, False)]
    nested = done.step_results["nested"]["data"]
    assert set(nested["finalOutput"]) == {"inner2"}
    # Later steps read what the sub-workflow concluded, not only that it ran.
    assert done.step_results["nested"]["summary"] == "inner2 done (attempt 1)"
    # A sub-workflow's status follows its runs; a delegation does not make a run of one.
    assert workflow_row(db, child_wf).status == "completed"
    assert workflow_row(db, child_wf).completed_at is not None


async def test_ending_a_parent_cancels_its_unfinished_children(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    db: Database,
    user_id: str,
) -> None:
    """A child works for its parent's attempt: cancelled with it, down every level, instead
    of running on (and spending) for nobody."""
    inner = make_workflow(steps("inner"))  # a sub-workflow whose step delegates a sub-task
    performer.delegate_to = {"inner": [agent_ids[1]]}
    performer.hang = {"delegated_task": 30}
    wf = make_workflow([{"id": "outer", "name": "Outer", "subWorkflowId": inner}], "recursive")
    parent = await engine.start_execution(wf, user_id)

    def family() -> list:
        with db.session() as s:
            children = ExecutionRepository(s).children(parent.id)
            return children + [g for c in children for g in ExecutionRepository(s).children(c.id)]

    def sub_task_running() -> bool:
        generations = family()
        return len(generations) == 2 and runs_of(db, generations[1].id)[-1].status == "running"

    await until(sub_task_running)
    await engine.cancel(parent.id, user_id)
    for child in family():
        ended = await engine.wait(child.id, 5)
        assert ended.status == "cancelled"
        assert ended.error_message == "its parent execution ended"
        assert {r.status for r in runs_of(db, child.id)} == {"cancelled"}


async def test_a_failed_attempts_sub_tasks_are_cancelled_while_the_step_is_retried(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    db: Database,
    user_id: str,
) -> None:
    """An attempt that times out waiting for its sub-task leaves it working for nobody: it is
    cancelled, while the step's next attempt starts a sub-task of its own."""
    performer.delegate_to = {"lead": [agent_ids[1]]}
    performer.hang = {"delegated_task": 30}
    wf = make_workflow(
        [{"id": "lead", "name": "Lead", "timeoutMinutes": 0.01, "maxRetries": 1}], "recursive"
    )
    parent = await engine.start_execution(wf, user_id)

    def children() -> list:
        with db.session() as s:
            return ExecutionRepository(s).children(parent.id)

    await until(lambda: len(children()) == 2)  # the second attempt's sub-task has started
    # Started within one second, the two children have the same started_at: find the first
    # attempt's by its key, not by its place in the list.
    [first_id] = [
        c.id
        for c in children()
        if c.execution_context["childKey"].startswith(f"{parent.id}:lead:1:")
    ]
    first = await engine.wait(first_id, 5)
    assert (first.status, first.error_message) == (
        "cancelled",
        "the attempt that started it ended",
    )


async def test_a_child_whose_parent_ended_unnoticed_is_cancelled_when_it_next_advances(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    """If the process that ended the parent died before cancelling the children, a child
    ends at its next advance (at the latest, on recovery)."""
    performer.hang = {"inner": 30}
    inner = make_workflow(steps("inner"))
    wf = make_workflow([{"id": "outer", "name": "Outer", "subWorkflowId": inner}], "recursive")
    parent = await engine.start_execution(wf, user_id)

    def child():
        with db.session() as s:
            children = ExecutionRepository(s).children(parent.id)
        return children[0] if children and runs_of(db, children[0].id) else None

    await until(child)
    with db.session() as s:  # ended by a process that died before it cancelled the child
        s.execute(
            update(workflow_executions)
            .where(workflow_executions.c.id == parent.id)
            .values(status="failed")
        )
    child_id = child().id
    result = await asyncio.to_thread(
        db.transaction, lambda s: engine.runner.advance(s, child_id), what="advancing the child"
    )
    assert result.finished
    ended = await engine.get(child().id)
    assert (ended.status, ended.error_message) == ("cancelled", "its parent execution ended")


async def test_ending_an_execution_expires_its_open_questions(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    db: Database,
    user_id: str,
) -> None:
    """A question to the user from a cancelled execution leaves the user's list: the attempt
    that waited for the answer is gone."""
    performer.hang = {"ask": 30}
    execution = await engine.start_execution(make_workflow(steps("ask")), user_id)
    await until(lambda: [r.status for r in runs_of(db, execution.id)] == ["running"])
    with db.session() as s:
        question = InteractionRepository(s).record(
            execution_id=execution.id,
            from_agent_id=agent_ids[0],
            interaction_type=InteractionType.QUESTION,
            message="Which region?",
            to_user_id=user_id,
            related_step_id="ask",
            requires_response=True,
        )
    await engine.cancel(execution.id, user_id)
    with db.session() as s:
        assert InteractionRepository(s).pending_questions_for_user(user_id) == []
        assert InteractionRepository(s).get(question.id).response_status == "expired"


async def test_the_runners_caches_stay_bounded(
    engine: Engine,
    make_workflow: MakeWorkflow,
    user_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long-lived worker caches executions that others end (and never forgets them itself):
    the caches are emptied when full, and executions still run from a fresh read."""
    monkeypatch.setattr("accord.engine.execution_facts.CACHE_LIMIT", 2)
    facts = engine.runner.facts
    for _ in range(4):
        done = await engine.wait(
            (await engine.start_execution(make_workflow(steps("a")), user_id)).id, 10
        )
        assert done.status == "completed"
        # As if another process had ended it: this one never forgets it.
        facts._plans[done.id], facts._started_at[done.id] = object(), 0.0  # type: ignore[assignment]
        facts._owners[done.id] = user_id
    assert len(facts._plans) <= 2 and len(facts._owners) <= 2


async def test_recursion_depth_is_bounded(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    db: Database,
    user_id: str,
) -> None:
    performer.delegate_to = {"lead": [agent_ids[0]], "delegated_task": [agent_ids[0]]}
    wf = make_workflow(steps("lead"), "recursive", maxDepth=2)
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 30)
    assert done.status == "failed"
    assert "maxDepth" in done.error_message


async def test_fan_out_is_bounded(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    agent_ids: list[str],
    user_id: str,
) -> None:
    performer.delegate_to = {"lead": [agent_ids[1]] * 3}
    wf = make_workflow(steps("lead"), "recursive", maxFanOut=2)
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 30)
    assert done.status == "failed" and "maxFanOut" in done.error_message


async def test_an_assignment_outside_the_participants_is_refused(
    engine: Engine,
    performer: LatencyPerformer,
    make_workflow: MakeWorkflow,
    db: Database,
    user_id: str,
) -> None:
    async def stranger(ctx):
        return Assignment(agent_id="not-a-participant", reason="wrong")

    performer.assign = stranger  # type: ignore[method-assign]
    wf = make_workflow(steps("a"))
    done = await engine.wait((await engine.start_execution(wf, user_id)).id, 20)
    assert done.status == "failed"
    assert "'not-a-participant' was assigned but does not take part" in done.error_message
    [run] = runs_of(db, done.id)
    assert run.status == "failed" and run.agent_id is None and run.started_at is None


async def test_an_unreadable_execution_does_not_keep_the_engine_from_starting(
    db: Database, user_id: str, make_workflow: MakeWorkflow, tmp_path
) -> None:
    # A running execution with no definition snapshot, as a hand edit or a bad import leaves.
    broken = make_workflow(steps("a"))
    with db.session() as s:
        s.execute(
            insert(workflow_executions).values(
                id=new_id(),
                workflow_id=broken,
                execution_number=1,
                trigger_reason="manual",
                user_id=user_id,
                status="running",
                definition={},
            )
        )
    engine = Engine(db, LatencyPerformer(), executor_id=f"t-{new_id()[:8]}", state_dir=tmp_path)
    await engine.start()
    try:
        execution = await engine.start_execution(make_workflow(steps("a", "b")), user_id)
        assert (await engine.wait(execution.id, 20)).status == "completed"
    finally:
        await engine.stop()


class _Fickle(LatencyPerformer):
    """Chooses `choices` in turn, as a choice by load would after a restart, and notes which
    agent each attempt was performed by."""

    def __init__(self, choices: list[str], latency_s: float) -> None:
        super().__init__(latency_s=latency_s)
        self.choices = choices
        self.performed_by: list[str | None] = []

    async def assign(self, ctx):
        return Assignment(agent_id=self.choices.pop(0), reason="in turn")

    async def perform(self, ctx):
        self.performed_by.append(ctx.agent_id)
        return await super().perform(ctx)


async def test_a_resumed_attempt_keeps_the_agent_it_was_assigned(
    db: Database, user_id: str, agent_ids: list[str], make_workflow: MakeWorkflow, tmp_path
) -> None:
    """An attempt cut off by a stop resumes with the agent chosen before it, though the
    assignment would now choose another: its recorded calls belong to that agent."""
    first, other = agent_ids
    executor_id = f"t-{new_id()[:8]}"
    before = _Fickle([first], latency_s=30)
    engine = Engine(db, before, executor_id=executor_id, state_dir=tmp_path)
    await engine.start()
    try:
        execution = await engine.start_execution(make_workflow(steps("a")), user_id)
        await until(lambda: before.performed_by == [first])
    finally:
        await engine.stop()  # the attempt's DBOS workflow stays pending, as after a crash

    after = _Fickle([other, other], latency_s=0)
    engine = Engine(db, after, executor_id=executor_id, state_dir=tmp_path)
    await engine.start()
    try:
        done = await engine.wait(execution.id, 20)
    finally:
        await engine.stop()
    assert done.status == "completed"
    assert after.performed_by == [first]
    [run] = runs_of(db, execution.id)
    assert (run.attempt, run.agent_id) == (1, first)
