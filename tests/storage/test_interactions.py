from datetime import UTC, datetime, timedelta

import pytest

from accord.domain.enums import InteractionType, QuestionStatus
from accord.domain.errors import IllegalTransition, NotFound
from accord.storage.repositories.interactions import InteractionRepository


@pytest.fixture
def setting(user_id, make_workflow, make_execution):
    workflow_id, team = make_workflow(user_id)
    return make_execution(workflow_id, user_id), team


def test_interactions_are_listed_in_recorded_order_and_filtered(db, setting):
    execution_id, (lead, dev) = setting
    with db.session() as s:
        repo = InteractionRepository(s)
        delegation = repo.record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            to_agent_id=dev.id,
            interaction_type=InteractionType.TASK_DELEGATION,
            message="Build it",
            related_step_id="build",
            context_data={"reason": "has the skills"},
        )
        shared = repo.record(
            execution_id=execution_id,
            from_agent_id=dev.id,
            interaction_type=InteractionType.KNOWLEDGE_SHARING,
            message="Use WAL",
            related_step_id="build",
        )
        feedback = repo.record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            to_agent_id=dev.id,
            interaction_type=InteractionType.FEEDBACK,
            message="Looks good",
            related_step_id="design",
        )
    with db.session() as s:
        repo = InteractionRepository(s)
        assert [i.id for i in repo.list(execution_id)] == [delegation.id, shared.id, feedback.id]
        assert [
            i.id for i in repo.list(execution_id, interaction_type=InteractionType.FEEDBACK)
        ] == [feedback.id]
        assert [i.id for i in repo.list(execution_id, step_id="build")] == [
            delegation.id,
            shared.id,
        ]
        assert [i.id for i in repo.list(execution_id, agent_id=dev.id)] == [
            delegation.id,
            shared.id,
            feedback.id,
        ]
        assert [i.id for i in repo.list(execution_id, agent_id=lead.id)] == [
            delegation.id,
            feedback.id,
        ]
        assert repo.get(delegation.id) == delegation
    assert delegation.context_data == {"reason": "has the skills"}
    assert delegation.response_status is None
    assert delegation.to_json_dict()["interactionType"] == "task_delegation"


def test_a_question_is_answered_once(db, setting):
    execution_id, (lead, dev) = setting
    deadline = datetime.now(UTC) + timedelta(minutes=5)
    with db.session() as s:
        question = InteractionRepository(s).record(
            execution_id=execution_id,
            from_agent_id=dev.id,
            to_agent_id=lead.id,
            interaction_type=InteractionType.QUESTION,
            message="Which database?",
            requires_response=True,
            response_deadline=deadline,
        )
    assert question.response_status is QuestionStatus.PENDING
    assert question.response_deadline == deadline.replace(microsecond=0)
    with db.session() as s:
        answered = InteractionRepository(s).record_response(
            question.id, message="SQLite", data={"choice": "sqlite"}
        )
    assert answered.response_received and answered.response_status is QuestionStatus.ANSWERED
    assert (answered.response_message, answered.response_data) == ("SQLite", {"choice": "sqlite"})
    assert answered.responded_at is not None
    with db.session() as s, pytest.raises(IllegalTransition):
        InteractionRepository(s).record_response(question.id, message="Postgres")


def test_questions_to_the_user_wait_until_answered_or_expired(db, user_id, make_user, setting):
    execution_id, (lead, _) = setting
    past = datetime.now(UTC) - timedelta(minutes=1)
    with db.session() as s:
        repo = InteractionRepository(s)
        overdue = repo.record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            to_user_id=user_id,
            interaction_type=InteractionType.QUESTION,
            message="Ship on Friday?",
            requires_response=True,
            response_deadline=past,
        )
        open_question = repo.record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            to_user_id=user_id,
            interaction_type=InteractionType.QUESTION,
            message="Which colour?",
            requires_response=True,
        )
        given_up = repo.record(
            execution_id=execution_id,
            from_agent_id=lead.id,
            to_user_id=user_id,
            interaction_type=InteractionType.QUESTION,
            message="Anything else?",
            requires_response=True,
        )
    with db.session() as s:
        repo = InteractionRepository(s)
        assert [q.id for q in repo.pending_questions_for_user(user_id)] == [
            overdue.id,
            open_question.id,
            given_up.id,
        ]
        assert repo.mark_expired(overdue.id)  # its asker stopped waiting at the deadline
        assert repo.mark_expired(given_up.id)
        assert not repo.mark_expired(given_up.id)
        assert [q.id for q in repo.pending_questions_for_user(user_id)] == [open_question.id]
        assert repo.get(overdue.id).response_status is QuestionStatus.EXPIRED
        with pytest.raises(IllegalTransition):
            repo.record_response(overdue.id, message="too late")
    other = make_user()
    with db.session() as s:
        repo = InteractionRepository(s)
        assert repo.pending_questions_for_user(other) == []
        assert repo.get(open_question.id, user_id=user_id) == open_question
        with pytest.raises(NotFound):
            repo.get(open_question.id, user_id=other)
