"""A process presumed dead but only slow, and the process that took its attempt over, never
both record the attempt's outcome: only the holder's counts (issue 8 item 2)."""

from accord.domain.ports import AttemptOutcome
from accord.engine.runner import ExecutionRunner
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.step_runs import StepRunRepository

from .conftest import add_agents, add_workflow, start_and_mark, steps


def result(by: str) -> dict:
    return {"summary": f"done by {by}", "output": by, "data": {}}


def test_a_late_outcome_from_the_old_holder_is_refused(db, user_id):
    (agent,) = add_agents(db, user_id, ["developer"])
    workflow_id = add_workflow(db, user_id, [agent], steps("only"))
    slow = ExecutionRunner(db, executor_id="slow-worker")
    heir = ExecutionRunner(db, executor_id="heir-worker")
    execution, key = start_and_mark(
        slow, db, workflow_id=workflow_id, user_id=user_id, agent_id=agent
    )
    # The slow worker's attempt was handed on: its heir replays it and takes the run over.
    with db.session() as s:
        assert heir.mark_attempts(s, [(key, agent)])[0].status == "go"
    with db.session() as s:
        late = slow.finish_attempts(s, [(key, AttemptOutcome("completed", result("slow")))])
    assert not late[0].finished and not late[0].dispatch
    with db.session() as s:
        run = StepRunRepository(s).get(*key)
    assert (run.status, run.executor_id) == ("running", "heir-worker")

    with db.session() as s:
        done = heir.finish_attempts(s, [(key, AttemptOutcome("completed", result("heir")))])
    assert done[0].finished
    with db.session() as s:
        run = StepRunRepository(s).get(*key)
        completions = [
            e
            for e in EventRepository(s).of_execution(user_id=user_id, execution_id=execution.id)
            if e.kind == "step.completed"
        ]
    assert run.status == "completed" and run.output["summary"] == "done by heir"
    assert len(completions) == 1
