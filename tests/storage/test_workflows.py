from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from accord.domain.enums import WorkflowStatus, WorkflowType
from accord.domain.errors import IllegalTransition, InvalidDefinition, NotFound
from accord.domain.metrics import CollaborationMetrics
from accord.domain.workflow import (
    ExecutionRecord,
    UpdateWorkflowRequest,
    WorkflowConfiguration,
    WorkflowStep,
)
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.users import ProjectRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.tables import collaboration_workflows


@pytest.fixture
def team(user_id, make_agent):
    return [make_agent(user_id, "architect"), make_agent(user_id, "developer")]


def _count(db, user_id) -> int:
    with db.session() as s:
        return s.execute(
            select(func.count()).where(collaboration_workflows.c.user_id == user_id)
        ).scalar_one()


def test_create_stores_the_definition_and_reads_it_back(db, user_id, team, two_step_request):
    with db.session() as s:
        project = ProjectRepository(s).create(user_id=user_id, name="P")
        created = WorkflowRepository(s).create(
            user_id, two_step_request(team, coordinator_agent_id=team[0].id, project_id=project.id)
        )
    with db.session() as s:
        workflow = WorkflowRepository(s).get(created.id, user_id=user_id)
    assert workflow == created
    assert workflow.status is WorkflowStatus.DRAFT
    assert workflow.total_steps == 2 and workflow.current_step == 0
    assert [st.id for st in workflow.configuration.steps] == ["design", "build"]
    assert workflow.to_json_dict()["participatingAgents"] == [a.id for a in team]
    assert workflow.project_id == project.id


def test_invalid_definition_writes_nothing_and_names_the_fault(db, user_id, team, two_step_request):
    request = two_step_request(team)
    request.configuration.steps[1].depends_on = ["deploy"]
    with db.session() as s, pytest.raises(InvalidDefinition) as caught:
        WorkflowRepository(s).create(user_id, request)
    assert [p.field for p in caught.value.problems] == ["configuration.steps[1].dependsOn[0]"]
    assert _count(db, user_id) == 0


def test_agents_of_another_user_are_refused(db, user_id, make_user, make_agent, two_step_request):
    other = make_user()
    theirs = make_agent(other, "spy")
    mine = make_agent(user_id, "developer")
    with db.session() as s, pytest.raises(InvalidDefinition) as caught:
        WorkflowRepository(s).create(user_id, two_step_request([mine, theirs]))
    assert [p.field for p in caught.value.problems] == ["participatingAgents[1]"]
    assert "not yours" in caught.value.problems[0].message


def test_a_project_of_another_user_is_refused(db, user_id, make_user, team, two_step_request):
    other = make_user()
    with db.session() as s:
        theirs = ProjectRepository(s).create(user_id=other, name="Theirs")
    with db.session() as s, pytest.raises(InvalidDefinition) as caught:
        WorkflowRepository(s).create(user_id, two_step_request(team, project_id=theirs.id))
    assert caught.value.problems[0].field == "projectId"


def test_workflows_are_private_and_listed_newest_first(
    db, user_id, make_user, team, two_step_request
):
    with db.session() as s:
        repo = WorkflowRepository(s)
        first = repo.create(user_id, two_step_request(team, name="First"))
        second = repo.create(user_id, two_step_request(team, name="Second"))
    other = make_user()
    with db.session() as s:
        repo = WorkflowRepository(s)
        assert {w.id for w in repo.list(user_id=user_id)} == {first.id, second.id}
        assert repo.list(user_id=other) == []
        for action in (
            lambda: repo.get(first.id, user_id=other),
            lambda: repo.delete(first.id, user_id=other),
            lambda: repo.update(first.id, user_id=other, request=UpdateWorkflowRequest(name="x")),
        ):
            with pytest.raises(NotFound):
                action()
        repo.set_status(
            ExecutionRepository(s).workflow(second.id, user_id=user_id), WorkflowStatus.ACTIVE
        )
        assert [w.id for w in repo.list(user_id=user_id, status=WorkflowStatus.ACTIVE)] == [
            second.id
        ]


def test_update_validates_the_merged_definition(db, user_id, team, two_step_request):
    with db.session() as s:
        created = WorkflowRepository(s).create(user_id, two_step_request(team))
    cyclic = WorkflowConfiguration(
        steps=[
            WorkflowStep(id="a", name="A", depends_on=["b"]),
            WorkflowStep(id="b", name="B", depends_on=["a"]),
        ]
    )
    with db.session() as s, pytest.raises(InvalidDefinition, match="cycle"):
        WorkflowRepository(s).update(
            created.id,
            user_id=user_id,
            request=UpdateWorkflowRequest(
                workflow_type=WorkflowType.PARALLEL, configuration=cyclic
            ),
        )
    with db.session() as s:
        unchanged = WorkflowRepository(s).get(created.id, user_id=user_id)
        assert unchanged == created
        updated = WorkflowRepository(s).update(
            created.id,
            user_id=user_id,
            request=UpdateWorkflowRequest(name="Renamed", coordinator_agent_id=team[1].id),
        )
    assert (updated.name, updated.coordinator_agent_id) == ("Renamed", team[1].id)
    assert updated.configuration == created.configuration
    with db.session() as s:
        cleared = WorkflowRepository(s).update(
            created.id, user_id=user_id, request=UpdateWorkflowRequest(coordinator_agent_id=None)
        )
    assert cleared.coordinator_agent_id is None and cleared.name == "Renamed"


def test_status_progress_history_and_metrics_for_the_engine(db, user_id, team, two_step_request):
    with db.session() as s:
        created = WorkflowRepository(s).create(user_id, two_step_request(team))
    record = ExecutionRecord(
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        step_id="design",
        agent_id=team[0].id,
        action="completed",
        result={"ok": True},
        duration=1.5,
    )

    def as_the_engine_sees_it(s):
        return ExecutionRepository(s).workflow(created.id, user_id=user_id, lock=True)

    with db.session() as s:
        repo = WorkflowRepository(s)
        repo.set_status(
            as_the_engine_sees_it(s), WorkflowStatus.ACTIVE, started_at=100, total_steps=2
        )
        repo.set_current_step(created.id, 1)
        repo.append_execution_history(created.id, [record])
        repo.append_execution_history(created.id, [record.model_copy(update={"step_id": "build"})])
        repo.set_metrics(created.id, CollaborationMetrics(total_interactions=3))
        repo.set_status(as_the_engine_sees_it(s), WorkflowStatus.PAUSED)
        repo.set_status(as_the_engine_sees_it(s), WorkflowStatus.ACTIVE)
        repo.set_status(
            as_the_engine_sees_it(s),
            WorkflowStatus.COMPLETED,
            completed_at=160,
            actual_duration=60,
            final_result={"out": 1},
        )
        with pytest.raises(IllegalTransition):  # a completed workflow is started, not resumed
            repo.set_status(as_the_engine_sees_it(s), WorkflowStatus.PAUSED)
    with db.session() as s:
        done = WorkflowRepository(s).get(created.id, user_id=user_id)
    assert done.status is WorkflowStatus.COMPLETED
    assert done.actual_duration == 60 and done.completed_at is not None
    assert done.current_step == 1 and done.total_steps == 2
    assert [r.step_id for r in done.execution_history] == ["design", "build"]
    assert done.execution_history[0] == record
    assert done.collaboration_metrics.total_interactions == 3
    assert done.final_result == {"out": 1}


def test_delete_removes_the_workflow(db, user_id, team, two_step_request):
    with db.session() as s:
        created = WorkflowRepository(s).create(user_id, two_step_request(team))
        WorkflowRepository(s).delete(created.id, user_id=user_id)
    with db.session() as s, pytest.raises(NotFound):
        WorkflowRepository(s).get(created.id, user_id=user_id)


def test_delete_takes_executions_interactions_and_knowledge_with_it(
    db, user_id, make_workflow, make_execution
):
    from accord.domain.enums import InteractionType, KnowledgeType
    from accord.storage.repositories.interactions import InteractionRepository
    from accord.storage.repositories.knowledge import KnowledgeRepository

    workflow_id, (lead, dev) = make_workflow(user_id)
    execution_id = make_execution(workflow_id, user_id)
    with db.session() as s:
        InteractionRepository(s).record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            interaction_type=InteractionType.COORDINATION,
            message="Go",
        )
        knowledge = KnowledgeRepository(s)
        old = knowledge.add(
            workflow_id=workflow_id,
            title="v1",
            content="old",
            subject="plan",
            knowledge_type=KnowledgeType.DECISION,
            created_by_agent_id=lead.id,
        )
        knowledge.add(
            workflow_id=workflow_id,
            title="v2",
            content="new",
            subject="plan",
            knowledge_type=KnowledgeType.DECISION,
            created_by_agent_id=dev.id,
            execution_id=execution_id,
        )
    with db.session() as s:
        WorkflowRepository(s).delete(workflow_id, user_id=user_id)
    with db.session() as s:
        assert InteractionRepository(s).list(execution_id) == []
        with pytest.raises(NotFound):
            KnowledgeRepository(s).get(old.id)


def test_concurrent_history_appends_lose_nothing(db, user_id, team, two_step_request):
    """Parallel steps finish at once; each appends its record in its own transaction."""
    from concurrent.futures import ThreadPoolExecutor

    with db.session() as s:
        created = WorkflowRepository(s).create(user_id, two_step_request(team))

    def append(n: int) -> None:
        for k in range(3):
            with db.session() as s:
                WorkflowRepository(s).append_execution_history(
                    created.id,
                    [
                        ExecutionRecord(
                            timestamp=datetime.now(UTC), step_id=f"s{n}-{k}", action="completed"
                        )
                    ],
                )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(append, range(6)))
    with db.session() as s:
        history = WorkflowRepository(s).get(created.id, user_id=user_id).execution_history
    assert sorted(r.step_id for r in history) == sorted(
        f"s{n}-{k}" for n in range(6) for k in range(3)
    )
