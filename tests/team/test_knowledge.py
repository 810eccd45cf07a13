"""Team knowledge: found, used, validated and superseded, within its workflow across runs."""

import pytest

from accord.domain.enums import ExecutionStatus, TriggerReason
from accord.domain.errors import Conflict, NotFound
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.team.knowledge import KnowledgeBase

from .helpers import answer

STEPS = [{"id": "plan", "name": "Plan the database migration", "instructions": "Plan it"}]


def kb(crew, execution_id=None, workflow_id=None):
    def open_(session):
        return KnowledgeBase(
            session,
            workflow_id=workflow_id or crew.workflow_id,
            user_id=crew.user_id,
            execution_id=execution_id,
        )

    return open_


async def test_a_later_run_of_the_workflow_uses_what_an_earlier_run_learnt(make_crew):
    crew = make_crew(steps=STEPS)
    crew.script(
        "Ada",
        answer(
            insights=[
                {
                    "title": "Migration lock",
                    "content": "Take an advisory lock before migrating",
                    "tags": ["database"],
                }
            ]
        ),
    )
    first = await crew.team().perform(crew.ctx("plan", agent="Ada"))
    assert first.status == "completed"
    with crew.db.session() as s:  # the second run of the same workflow
        crew.execution_id = (
            ExecutionRepository(s)
            .create(
                workflow_id=crew.workflow_id,
                user_id=crew.user_id,
                trigger_reason=TriggerReason.MANUAL,
                triggered_by=None,
                definition={},
                status=ExecutionStatus.PENDING,
            )
            .id
        )
    grace = crew.script("Grace", answer())

    await crew.team().perform(crew.ctx("plan", agent="Grace"))

    assert "Migration lock (by Ada; insight, unvalidated): Take an advisory lock" in (
        grace.prompt_text()
    )
    with crew.db.session() as s:
        [entry] = kb(crew)(s).entries()
        kinds = [
            e.kind
            for e in EventRepository(s).of_execution(
                user_id=crew.user_id, execution_id=crew.execution_id
            )
        ]
    assert entry.usage_count == 1
    assert "knowledge.updated" in kinds  # the use shows in the second run's live view


async def test_knowledge_events_name_the_step_that_used_the_entry(make_crew):
    """An entry written in `plan` and used in `build` shows in `build`'s live view, not as
    activity of `plan` (a child execution's `delegated_task`, say, that its parent lacks)."""
    crew = make_crew(steps=[*STEPS, {"id": "build", "name": "Build the database migration"}])
    with crew.db.session() as s:
        kb(crew, execution_id=crew.execution_id)(s).share(
            agent_id=crew.id("Ada"),
            title="Database migration",
            content="Lock first",
            step_id="plan",
        )
    crew.script("Grace", answer())
    await crew.team().perform(crew.ctx("build", agent="Grace"))
    with crew.db.session() as s:
        events = EventRepository(s).of_execution(
            user_id=crew.user_id, execution_id=crew.execution_id
        )
    used = [e for e in events if e.kind == "knowledge.updated"]
    assert used and {e.step_id for e in used} == {"build"}


async def test_another_workflows_knowledge_is_not_found(make_crew):
    mine, theirs = make_crew(steps=STEPS), make_crew(steps=STEPS)
    with mine.db.session() as s:
        entry = kb(theirs)(s).share(
            agent_id=theirs.id("Ada"), title="Database migration", content="Their secret plan"
        )
        assert kb(mine)(s).search("database migration") == []
        with pytest.raises(NotFound):
            kb(mine)(s).validate(entry.id, agent_id=mine.id("Grace"))


async def test_a_newer_entry_on_the_same_subject_supersedes_the_older(make_crew):
    crew = make_crew(steps=STEPS)
    with crew.db.session() as s:
        base = kb(crew, crew.execution_id)(s)
        old = base.share(
            agent_id=crew.id("Ada"),
            title="Batch size",
            content="Use 1000 rows",
            subject="migration batch size",
        )
        new = base.share(
            agent_id=crew.id("Grace"),
            title="Smaller batches",
            content="Use 200 rows: 1000 locks too long",
            subject="Migration  Batch Size",
        )
        other = base.share(
            agent_id=crew.id("Ada"),
            title="Batch size for exports",
            content="Exports may use 5000 rows",
        )
        entries = {k.id: k for k in base.entries(include_inactive=True)}
        found = [k.id for k in base.search("batch size rows")]
    assert (entries[old.id].is_active, entries[old.id].superseded_by) == (False, new.id)
    assert entries[new.id].is_active and entries[other.id].is_active
    assert old.id not in found and {new.id, other.id} <= set(found)


async def test_validations_count_once_and_lift_an_entry_in_the_ranking(make_crew):
    crew = make_crew(steps=STEPS)
    with crew.db.session() as s:
        base = kb(crew, crew.execution_id)(s)
        plain = base.share(
            agent_id=crew.id("Ada"), title="Index first", content="Create the index concurrently"
        )
        checked = base.share(
            agent_id=crew.id("Ada"),
            title="Index later",
            content="Create the index concurrently after the backfill",
        )
        with pytest.raises(Conflict):
            base.validate(checked.id, agent_id=crew.id("Ada"))  # not by its author
        base.validate(checked.id, agent_id=crew.id("Grace"))
        validated = base.validate(checked.id, agent_id=crew.id("Grace"))
        base.validate(checked.id, agent_id=crew.id("Linus"))
        ranking = [k.id for k in base.search("index concurrently")]
    assert validated.validated_by_agents == [crew.id("Grace")]
    assert ranking == [checked.id, plain.id]
