"""A child execution starts only while the attempt starting it runs: a start cut off by the
attempt's timeout must not leave a child working for nobody (issue 3 item 2)."""

import pytest

from accord.domain.errors import Conflict
from accord.domain.ports import AttemptOutcome
from accord.engine.runner import ExecutionRunner
from accord.storage.repositories.executions import ExecutionRepository

from .conftest import add_agents, add_workflow, start_and_mark, steps


def test_an_attempt_that_has_ended_starts_no_child(db, user_id):
    (agent,) = add_agents(db, user_id, ["developer"])
    workflow_id = add_workflow(db, user_id, [agent], steps("lead"))
    runner = ExecutionRunner(db)
    parent, key = start_and_mark(
        runner, db, workflow_id=workflow_id, user_id=user_id, agent_id=agent
    )

    def start_child(child_key: str):
        with db.session() as s:
            repo = ExecutionRepository(s)
            return runner.start_child(
                s,
                parent=repo.get(parent.id),
                parent_step_id=key[1],
                parent_attempt=key[2],
                child_key=child_key,
                workflow=repo.workflow(workflow_id, user_id=user_id),
                inputs={},
            )

    child, _ = start_child("while-running")
    with db.session() as s:
        runner.finish_attempts(s, [(key, AttemptOutcome("failed", error="timed out"))])
    with pytest.raises(Conflict, match="attempt 1 of step 'lead' has ended"):
        start_child("after-the-end")
    assert start_child("while-running")[0].id == child.id  # a replayed start finds its child
    with db.session() as s:
        assert [c.id for c in ExecutionRepository(s).children(parent.id)] == [child.id]
