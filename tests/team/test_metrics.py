"""Metrics computed from recorded rows match values worked out by hand."""

from sqlalchemy import update

from accord.domain.enums import (
    ExecutionStatus,
    InteractionType,
    KnowledgeType,
    StepRunStatus,
    TriggerReason,
)
from accord.domain.execution import Usage
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.tables import agent_interactions
from accord.team.knowledge import KnowledgeBase
from accord.team.metrics import execution_metrics, workflow_metrics
from accord.team.records import TeamRecords

from .helpers import answer, call

ONE_CALL = Usage(input_tokens=100, output_tokens=10, cost_usd=0.00012, model_calls=1)


def attempt(crew, execution_id, step, number, agent, status):
    with crew.db.session() as s:
        runs = StepRunRepository(s)
        run = runs.start(
            runs.create(execution_id=execution_id, step_id=step, attempt=number),
            agent_id=crew.id(agent),
            executor_id="t",
        )
        runs.finish(run, status, usage=ONE_CALL)


def interaction(
    crew, execution_id, sender, kind, *, to=None, asked_at=None, answered_after=None, context=None
):
    with crew.db.session() as s:
        records = TeamRecords(s)
        row = records.add_interaction(
            execution_id=execution_id,
            user_id=crew.user_id,
            from_agent_id=crew.id(sender),
            to_agent_id=crew.id(to) if to else None,
            interaction_type=kind,
            message="m",
            context=context,
            step_id="a",
            requires_response=asked_at is not None,
        )
        if asked_at is not None:
            values = {"created_at": asked_at}
            if answered_after is not None:
                records.answer(row.id, user_id=crew.user_id, message="yes")
                values["responded_at"] = asked_at + answered_after
            else:
                records.expire(row.id)
            s.execute(
                update(agent_interactions).where(agent_interactions.c.id == row.id).values(**values)
            )


async def test_execution_metrics_match_hand_computed_values(make_crew):
    crew = make_crew(steps=[{"id": "a", "name": "A"}])
    ex = crew.execution_id
    attempt(crew, ex, "a", 1, "Ada", StepRunStatus.COMPLETED)
    attempt(crew, ex, "b", 1, "Ada", StepRunStatus.FAILED)
    attempt(crew, ex, "b", 2, "Ada", StepRunStatus.COMPLETED)
    attempt(crew, ex, "c", 1, "Grace", StepRunStatus.FAILED)
    question = InteractionType.QUESTION
    interaction(crew, ex, "Ada", question, to="Grace", asked_at=1000, answered_after=180)
    interaction(crew, ex, "Ada", question, to="Grace", asked_at=2000, answered_after=60)
    interaction(crew, ex, "Grace", question, to="Ada", asked_at=3000)  # expires
    for number, verdict in ((1, "request_changes"), (2, "approve"), (2, "approve")):
        interaction(
            crew,
            ex,
            "Grace",
            InteractionType.FEEDBACK,
            to="Ada",
            context={"review": verdict, "attempt": number},
        )
    interaction(crew, ex, "Ada", InteractionType.KNOWLEDGE_SHARING)
    with crew.db.session() as s:
        kb = KnowledgeBase(s, workflow_id=crew.workflow_id, user_id=crew.user_id, execution_id=ex)
        kb.share(agent_id=crew.id("Ada"), title="Cache", content="v1")
        kb.share(
            agent_id=crew.id("Ada"),
            title="Cache",
            content="v2",
            knowledge_type=KnowledgeType.DECISION,
        )  # supersedes v1; both were created

    with crew.db.session() as s:
        m = execution_metrics(s, ex, user_id=crew.user_id)

    assert m.total_interactions == 7
    assert m.average_response_time == 2.0  # (3 + 1) / 2 minutes
    assert m.knowledge_items_created == 2
    # Collaboration: questions, reviews and shared knowledge (3 kinds), all about step a of
    # the 3 steps tried, by Ada and Grace (Linus did nothing):
    # r = (1/3 + min(1, 3/3) + 2/3) / 3 = 2/3 -> 1 + 6 = 7.
    assert m.collaboration_score == 7.0
    assert m.evidence.collaboration.counts == {
        "steps": 3,
        "involved": 1,
        "questions": 3,
        "answers": 2,
        "delegations": 0,
        "reviews": 3,
        "feedback": 0,
        "knowledgeShared": 1,
        "knowledgeUsed": 0,
        "kinds": 3,
        "participants": 3,
        "collaborators": 2,
    }
    # 3 steps in 4 attempts, 2 of 3 questions answered: r = 3/4 * 2/3 = 1/2 -> 5.5.
    assert m.efficiency_rating == 5.5
    # 2 of 3 steps done, 1 of the 2 approved by its last review: r = 2/3 * (1 + 1/2) / 2 = 1/2.
    assert m.quality_score == 5.5
    assert m.evidence.quality.counts["approved"] == 1
    assert "involved / steps" in m.evidence.collaboration.formula
    figures = {f.agent_name: f for f in m.agents}
    ada, grace, linus = figures["Ada"], figures["Grace"], figures["Linus"]
    assert (ada.steps, ada.approvals, ada.rejections) == (2, 2, 1)
    assert (ada.input_tokens, ada.output_tokens) == (300, 30)
    assert round(ada.cost_usd, 8) == 0.00036
    assert (grace.steps, grace.input_tokens, grace.approvals) == (0, 100, 0)
    assert (linus.steps, linus.input_tokens) == (0, 0)


async def test_workflow_metrics_add_up_its_executions(make_crew):
    crew = make_crew(steps=[{"id": "a", "name": "A"}])
    attempt(crew, crew.execution_id, "a", 1, "Ada", StepRunStatus.COMPLETED)
    interaction(crew, crew.execution_id, "Ada", InteractionType.COORDINATION)
    with crew.db.session() as s:
        second = (
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
    attempt(crew, second, "a", 1, "Linus", StepRunStatus.COMPLETED)
    interaction(crew, second, "Linus", InteractionType.COORDINATION)
    interaction(crew, second, "Grace", InteractionType.FEEDBACK, to="Linus")
    interaction(crew, second, "Linus", InteractionType.COORDINATION)

    with crew.db.session() as s:
        one = execution_metrics(s, second, user_id=crew.user_id)
        both = workflow_metrics(s, crew.workflow_id, user_id=crew.user_id)

    assert (one.total_interactions, both.total_interactions) == (3, 4)
    steps = {f.agent_name: f.steps for f in both.agents}
    assert steps == {"Ada": 1, "Grace": 0, "Linus": 1}
    # Only Grace's feedback is collaboration (coordination rows are not): one of the 2 steps,
    # one kind, one of 3 participants: r = (1/2 + 1/3 + 1/3) / 3 = 7/18 -> 4.5.
    assert both.collaboration_score == 4.5
    assert both.evidence.collaboration.not_counted["otherCoordination"] == 3
    assert both.efficiency_rating == 10.0  # each run's step right first time
    assert both.quality_score == 5.5  # both done, neither reviewed


async def test_nothing_done_yet_scores_one(make_crew):
    crew = make_crew(steps=[{"id": "a", "name": "A"}])
    with crew.db.session() as s:
        m = execution_metrics(s, crew.execution_id, user_id=crew.user_id)
    assert (m.total_interactions, m.collaboration_score, m.efficiency_rating, m.quality_score) == (
        0,
        1.0,
        1.0,
        1.0,
    )


async def test_a_child_executions_rows_count_toward_its_parents_metrics(make_crew):
    crew = make_crew(steps=[{"id": "a", "name": "A"}])
    attempt(crew, crew.execution_id, "a", 1, "Ada", StepRunStatus.COMPLETED)
    with crew.db.session() as s:
        child = ExecutionRepository(s).create(
            workflow_id=crew.workflow_id,
            user_id=crew.user_id,
            trigger_reason=TriggerReason.DEPENDENCY,
            triggered_by=None,
            definition={},
            status=ExecutionStatus.PENDING,
            execution_context={"delegatedTask": {"title": "t"}},
            parent_execution_id=crew.execution_id,
            depth=1,
        )
    attempt(crew, child.id, "delegated_task", 1, "Grace", StepRunStatus.COMPLETED)
    interaction(crew, child.id, "Grace", InteractionType.QUESTION, to="Ada", asked_at=10)

    with crew.db.session() as s:
        m = execution_metrics(s, crew.execution_id, user_id=crew.user_id)

    assert m.evidence.executions == 2
    assert m.total_interactions == 1
    assert m.evidence.collaboration.counts["steps"] == 2
    # The delegated step is work done for a teammate; the child's question is collaboration.
    assert m.evidence.collaboration.counts["involved"] == 2


TWO_STEPS = [
    {"id": "design", "name": "Design the cache"},
    {"id": "build", "name": "Build the cache", "dependsOn": ["design"]},
]
INSIGHT = {"title": "Cache keys", "content": "Key by tenant and path"}


async def run_team(crew, scripts_by_step):
    """Each step assigned by the team (recorded as an assignment), performed by its agent's
    scripted model, and finished with its outcome, as the engine would."""
    team = crew.team()
    for step_id, (agent, turns) in scripts_by_step.items():
        crew.script(crew.agents[agent].name, *turns["author"])
        for mate, mate_turns in turns.get("mates", {}).items():
            crew.script(crew.agents[mate].name, *mate_turns)
        ctx = crew.ctx(step_id, agent=agent)
        await team.assign(ctx)
        outcome = await team.perform(ctx)
        assert outcome.status == "completed", outcome.error
        with crew.db.session() as s:
            runs = StepRunRepository(s)
            run = runs.get(crew.execution_id, step_id, 1)
            runs.finish(run, StepRunStatus.COMPLETED, output=outcome.result, usage=outcome.usage)
    with crew.db.session() as s:
        return execution_metrics(s, crew.execution_id, user_id=crew.user_id)


async def test_a_silent_team_and_a_collaborating_team_score_apart(make_crew):
    silent = await run_team(
        make_crew(steps=TWO_STEPS),
        {
            "design": ("Ada", {"author": [answer(insights=[INSIGHT])]}),
            "build": ("Grace", {"author": [answer(insights=[INSIGHT | {"title": "Eviction"}])]}),
        },
    )
    crew = make_crew(steps=TWO_STEPS)
    ada = crew.agents["Ada"].name  # "Ada (2)": a user's agent names are unique
    talking = await run_team(
        crew,
        {
            "design": (
                "Ada",
                {
                    "author": [
                        call("share_knowledge", title="Cache keys", content="Key by tenant"),
                        answer(),
                    ]
                },
            ),
            "build": (
                "Grace",
                {
                    "author": [
                        call("search_knowledge", query="cache keys"),
                        call("ask_question", to=ada, question="Which TTL?"),
                        call("give_feedback", to=ada, message="The design had no TTL"),
                        answer(),
                    ],
                    "mates": {"Ada": [{"answer": "Five minutes"}]},
                },
            ),
        },
    )

    # Both teams were assigned their steps and copied their results' insights into the
    # knowledge base: neither counts as collaboration.
    assert silent.evidence.collaboration.not_counted["assignments"] == 2
    assert silent.evidence.collaboration.not_counted["automaticInsights"] == 2
    assert silent.total_interactions == 4
    assert silent.collaboration_score == 1.0
    counts = talking.evidence.collaboration.counts
    assert (counts["questions"], counts["answers"], counts["feedback"]) == (1, 1, 1)
    assert (counts["knowledgeShared"], counts["knowledgeUsed"]) == (1, 1)
    assert counts["involved"] == 2
    assert talking.collaboration_score >= 8.0
    assert silent.collaboration_score < talking.collaboration_score - 5
