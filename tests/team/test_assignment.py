"""Assignment: preferred agent, coordinator's checked choice, score; always a participant."""

from dataclasses import replace
from datetime import UTC, datetime

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, StepRunStatus
from accord.domain.workflow import WorkflowStep
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.assignment import score_agents

from .helpers import Durable, answer


def delegations(crew):
    with crew.db.session() as s:
        return InteractionRepository(s).list(
            crew.execution_id, interaction_type=InteractionType.TASK_DELEGATION
        )


async def test_the_preferred_participant_gets_the_step(make_crew):
    crew = make_crew(steps=[{"id": "s", "name": "S"}], coordinator="Linus")
    crew.plan.by_id["s"].step.preferred_agent_id = crew.id("Grace")
    assignment = await crew.team().assign(crew.ctx("s"))
    assert assignment.agent_id == crew.id("Grace")
    assert assignment.reason.startswith("preferred")
    [d] = delegations(crew)
    assert (d.from_agent_id, d.to_agent_id) == (crew.id("Linus"), crew.id("Grace"))
    assert crew.scripts.get("Linus") is None  # the coordinator was not asked


async def test_the_coordinator_chooses_by_name_and_its_reason_is_recorded(make_crew):
    crew = make_crew(
        steps=[{"id": "s", "name": "Write SQL", "requiredSkills": ["sql"]}], coordinator="Linus"
    )
    linus = crew.script("Linus", {"agent": "Ada", "reason": "she knows SQL"})
    assignment = await crew.team().assign(crew.ctx("s"))
    assert assignment.agent_id == crew.id("Ada")
    assert "Write SQL" in linus.prompt_text() and crew.id("Grace") in linus.prompt_text()
    [d] = delegations(crew)
    assert d.context_data["method"] == "coordinator"
    assert "she knows SQL" in d.message


async def test_a_coordinator_that_names_a_non_participant_falls_back_to_the_score(make_crew):
    crew = make_crew(
        steps=[{"id": "s", "name": "Review", "requiredSkills": ["code review"]}],
        coordinator="Linus",
    )
    crew.script("Linus", {"agent": "Mallory", "reason": "she is great"})
    assignment = await crew.team().assign(crew.ctx("s"))
    assert assignment.agent_id == crew.id("Grace")
    [d] = delegations(crew)
    assert d.context_data["method"] == "fallback"
    assert "the coordinator chose 'Mallory', who is not a participant" in d.message
    assert set(d.context_data["scores"]) == {crew.id(n) for n in ("Ada", "Grace", "Linus")}


async def test_an_unparseable_coordinator_answer_falls_back_and_says_why(make_crew):
    crew = make_crew(
        steps=[{"id": "s", "name": "S", "requiredSkills": ["python"]}], coordinator="Linus"
    )
    crew.script("Linus", {"pick": "Ada"}, {"pick": "Ada"}, {"pick": "Ada"})
    assignment = await crew.team().assign(crew.ctx("s"))
    assert assignment.agent_id == crew.id("Ada")
    [d] = delegations(crew)
    assert d.context_data["method"] == "fallback"
    assert "the coordinator's answer could not be used" in d.message


async def test_without_a_coordinator_skills_role_load_and_track_record_decide(make_crew):
    crew = make_crew(
        steps=[
            {"id": "s", "name": "S", "requiredSkills": ["Python"], "assignedAgentRole": "reviewer"}
        ]
    )
    assignment = await crew.team().assign(crew.ctx("s"))
    # Ada: all skills (4) + success 0.5 = 4.5; Grace: role (2) + 0.5 = 2.5.
    assert assignment.agent_id == crew.id("Ada")
    [d] = delegations(crew)
    assert (d.from_agent_id, d.context_data["method"]) == (crew.id("Ada"), "score")
    assert d.context_data["scores"][crew.id("Ada")] == 4.5


async def test_a_replayed_assignment_keeps_its_agent_though_the_load_has_changed(make_crew):
    crew = make_crew(
        steps=[
            {"id": "s", "name": "S", "requiredSkills": ["Python"], "assignedAgentRole": "reviewer"}
        ]
    )
    ctx = crew.ctx("s")
    first = await crew.team().assign(ctx)
    assert first.agent_id == crew.id("Ada")  # 4.5 against Grace's 2.5
    with crew.db.session() as s:  # Ada now runs three attempts: a new choice would be Grace
        runs = StepRunRepository(s)
        for attempt in range(2, 5):
            run = runs.create(execution_id=crew.execution_id, step_id="s", attempt=attempt)
            runs.start(run, agent_id=crew.id("Ada"), executor_id="test")
    replay = replace(ctx, durable=Durable(replaying=crew.durable.records))
    assert (await crew.team().assign(replay)).agent_id == crew.id("Ada")


def test_scores_weigh_load_and_past_success_and_break_ties_by_order():
    now = datetime.now(UTC)
    a, b = (
        Agent(id=n, user_id="u", name=n, role="dev", skills=["go"], created_at=now, updated_at=now)
        for n in ("a", "b")
    )
    step = WorkflowStep(id="s", name="S", required_skills=["go"])
    assert [s.agent.id for s in score_agents(step, [a, b], {})] == ["a", "b"]
    assert [s.agent.id for s in score_agents(step, [b, a], {})] == ["b", "a"]
    busy = {"a": (2, 0, 0)}
    assert score_agents(step, [a, b], busy)[0].agent.id == "b"
    reliable = {"a": (0, 1, 3), "b": (0, 4, 0)}
    ranked = score_agents(step, [a, b], reliable)
    assert [(s.agent.id, s.success) for s in ranked] == [("b", 1.0), ("a", 0.25)]


async def test_past_failures_move_work_to_a_teammate(make_crew):
    crew = make_crew(
        steps=[{"id": "s", "name": "S"}], agents=[("Ada", "dev", ["go"]), ("Bea", "dev", ["go"])]
    )
    with crew.db.session() as s:
        runs = StepRunRepository(s)
        for i in range(2):
            run = runs.start(
                runs.create(execution_id=crew.execution_id, step_id="old", attempt=i + 1),
                agent_id=crew.id("Ada"),
                executor_id="t",
            )
            runs.finish(run, StepRunStatus.FAILED)
    assignment = await crew.team().assign(crew.ctx("s"))
    assert assignment.agent_id == crew.id("Bea")


async def test_the_coordinators_tokens_count_in_the_attempts_usage(make_crew):
    crew = make_crew(steps=[{"id": "s", "name": "S"}], coordinator="Linus")
    crew.script("Linus", {"agent": "Ada", "reason": "free"})
    crew.script("Ada", answer())
    team = crew.team()
    ctx = crew.ctx("s")
    assignment = await team.assign(ctx)
    outcome = await team.perform(replace(ctx, agent_id=assignment.agent_id))
    assert outcome.status == "completed"
    assert outcome.usage.model_calls == 2


async def test_the_coordinator_leads_a_decision_without_being_asked_who(make_crew):
    crew = make_crew(steps=[{"id": "d", "name": "Go?", "type": "decision"}], coordinator="Linus")
    assignment = await crew.team().assign(crew.ctx("d"))
    assert assignment.agent_id == crew.id("Linus")
    assert "Linus" not in crew.scripts  # no model was asked
