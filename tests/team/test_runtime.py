"""The agent runtime: prompts, structured results, knowledge in and out, usage, budgets."""

from dataclasses import replace

from accord.domain.enums import InteractionType
from accord.domain.errors import ModelFailure
from accord.domain.execution import Usage
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.team.knowledge import KnowledgeBase

from .helpers import TOKENS_IN, TOKENS_OUT, Durable, answer, call, price

STEPS = [
    {"id": "design", "name": "Design the API", "preferredAgentId": None},
    {
        "id": "build",
        "name": "Build the packaging",
        "description": "Package the Python service",
        "instructions": "Use a lock file for the Python dependencies",
        "expectedOutput": "A pyproject.toml",
        "validationCriteria": ["installs offline"],
        "requiredSkills": ["python"],
    },
]


async def test_a_step_is_done_from_a_prompt_of_agent_step_results_and_knowledge(make_crew):
    crew = make_crew(steps=STEPS)
    with crew.db.session() as s:
        known = KnowledgeBase(s, workflow_id=crew.workflow_id, user_id=crew.user_id).share(
            agent_id=crew.id("Grace"),
            title="Python lock file",
            content="Pin Python dependencies with uv pip compile.",
            tags=["python"],
        )
    ada = crew.script(
        "Ada",
        answer(
            summary="Packaged the service",
            output="pyproject.toml written",
            insights=[
                {
                    "title": "Offline installs",
                    "content": "Vendor wheels for offline installs",
                    "tags": ["Packaging"],
                }
            ],
        ),
    )

    outcome = await crew.team().perform(
        crew.ctx(
            "build",
            agent="Ada",
            dependency_results={"design": answer(summary="REST API designed")},
            inputs={"service": "billing-api", "childKey": "engine-internal"},
        )
    )

    assert outcome.status == "completed", outcome.error
    assert outcome.result["summary"] == "Packaged the service"
    prompt = ada.prompt_text()
    for expected in (
        "You are Ada, a developer.",
        "Ada backstory",
        "python, sql",
        "Grace (reviewer",
        "Build the packaging",
        "Package the Python service",
        "Use a lock file",
        "A pyproject.toml",
        "installs offline",
        "REST API designed",
        "Python lock file",
        "Write technically",
        "billing-api",
    ):
        assert expected in prompt, expected
    assert "engine-internal" not in prompt
    assert outcome.usage == Usage(
        input_tokens=TOKENS_IN,
        output_tokens=TOKENS_OUT,
        cost_usd=price(TOKENS_IN, TOKENS_OUT),
        model_calls=1,
    )
    with crew.db.session() as s:
        repo = KnowledgeRepository(s)
        assert repo.get(known.id).usage_count == 1
        entries = {k.title: k for k in repo.list_for_workflow(crew.workflow_id)}
        shared = InteractionRepository(s).list(
            crew.execution_id, interaction_type=InteractionType.KNOWLEDGE_SHARING
        )
        kinds = [
            e.kind
            for e in EventRepository(s).of_execution(
                user_id=crew.user_id, execution_id=crew.execution_id
            )
        ]
    insight = entries["Offline installs"]
    assert (
        insight.created_by_agent_id,
        insight.execution_id,
        insight.source_step_id,
        insight.tags,
    ) == (crew.id("Ada"), crew.execution_id, "build", ["packaging"])
    assert [i.from_agent_id for i in shared] == [crew.id("Ada")]
    assert shared[0].context_data["knowledgeIds"] == [insight.id]
    assert "knowledge.created" in kinds and "interaction.created" in kinds
    assert crew.durable.names == [
        "knowledge:retrieve",
        "team:context",
        f"model:{crew.id('Ada')}",
        "knowledge:insights",
    ]


async def test_rework_feedback_is_in_the_prompt(make_crew):
    crew = make_crew(steps=STEPS)
    ada = crew.script("Ada", answer())
    await crew.team().perform(
        crew.ctx("build", agent="Ada", attempt=2, feedback="Add a test for the offline install")
    )
    assert "Reviewer feedback to address" in ada.prompt_text()
    assert "Add a test for the offline install" in ada.prompt_text()


async def test_invalid_output_is_sent_back_with_the_validation_error(make_crew):
    crew = make_crew(steps=STEPS)
    ada = crew.script("Ada", {"summary": "no output field"}, answer(summary="fixed"))
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert outcome.result["summary"] == "fixed"
    assert "output" in ada.prompt_text(1) and "Field required" in ada.prompt_text(1)
    assert outcome.usage.model_calls == 2


async def test_output_that_never_validates_fails_the_attempt_clearly(make_crew):
    crew = make_crew(steps=STEPS)
    crew.script("Ada", {"summary": ""}, {"summary": "x"}, {"output": "no summary"})
    outcome = await crew.team(output_retries=2).perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "failed"
    assert outcome.retryable
    assert outcome.error.startswith("Ada's model gave no valid answer after 2 retries")
    assert outcome.usage.model_calls == 3


def provider_fails(message: str, *, transient: bool):
    def turn(messages, info):
        raise ModelFailure(message, details={"transient": transient})

    return turn


async def test_a_provider_fault_that_asking_again_cannot_mend_is_not_retried(make_crew):
    crew = make_crew(steps=STEPS)
    crew.script(
        "Ada", provider_fails("the provider rejected the API key (HTTP 401)", transient=False)
    )
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "failed" and not outcome.retryable
    assert outcome.error == "Ada: the provider rejected the API key (HTTP 401)"


async def test_a_provider_fault_that_may_pass_is_retried(make_crew):
    crew = make_crew(steps=STEPS)
    crew.script("Ada", provider_fails("the model is unavailable (HTTP 503)", transient=True))
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "failed" and outcome.retryable


async def test_a_spent_token_budget_stops_the_attempt_before_any_model_call(make_crew):
    crew = make_crew(steps=STEPS, constraints={"budgetTokens": 500})
    crew.spend("design", Usage(input_tokens=450, output_tokens=50, model_calls=3))
    ada = crew.script("Ada", answer())
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "failed"
    assert not outcome.retryable
    assert outcome.error.startswith(
        "Token budget exceeded: the execution has used 500 of its 500 tokens"
    )
    assert ada.requests == []


async def test_the_budget_is_checked_before_each_call_within_an_attempt(make_crew):
    crew = make_crew(steps=STEPS, constraints={"budgetUsd": 0.00015})
    crew.spend("design", Usage(input_tokens=50, output_tokens=0, cost_usd=0.00005))
    ada = crew.script("Ada", call("search_knowledge", query="python"), answer())
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    # $0.00005 spent: the first call ($0.00012) may go; after it $0.00017 is past $0.00015.
    assert outcome.status == "failed" and not outcome.retryable
    assert outcome.error.startswith("Cost budget exceeded")
    assert len(ada.requests) == 1
    assert outcome.usage.model_calls == 1


async def test_a_running_attempts_spending_counts_for_the_attempts_beside_it(make_crew):
    crew = make_crew(steps=STEPS, constraints={"budgetUsd": 0.0001})
    crew.script("Ada", answer())
    grace = crew.script("Grace", answer())
    design = crew.ctx("design", agent="Ada")
    build = crew.ctx("build", agent="Grace")  # runs in parallel: both attempts are running
    first = await crew.team().perform(design)
    assert first.status == "completed" and first.usage.cost_usd > 0.0001
    # The design attempt has not ended (its outcome is not recorded yet), but what it spent
    # already counts: the build attempt beside it may not make a call.
    second = await crew.team().perform(build)
    assert second.status == "failed" and not second.retryable
    assert second.error.startswith("Cost budget exceeded")
    assert grace.requests == []


async def test_tool_calls_run_one_at_a_time_in_the_order_asked(make_crew):
    crew = make_crew(steps=STEPS)
    crew.script(
        "Ada",
        [
            call("share_knowledge", title="First", content="one"),
            call("share_knowledge", title="Second", content="two"),
        ],
        answer(),
    )
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert not crew.durable.overlapped
    tools = [n for n in crew.durable.names if n.startswith("tool:")]
    assert tools == ["tool:share_knowledge", "tool:share_knowledge"]
    with crew.db.session() as s:
        titles = [
            i.context_data["title"]
            for i in InteractionRepository(s).list(
                crew.execution_id, interaction_type=InteractionType.KNOWLEDGE_SHARING
            )
        ]
    assert titles == ["First", "Second"]


async def test_a_replayed_attempt_calls_no_model_and_records_nothing_twice(make_crew):
    crew = make_crew(steps=[{**STEPS[1], "reviewRequired": True, "reviewerRole": "reviewer"}])
    crew.script(
        "Ada",
        call("ask_question", to="Grace", question="Which Python?"),
        call("share_knowledge", title="Python 3.11", content="The service runs on 3.11"),
        answer(insights=[{"title": "Lock file", "content": "uv pip compile"}]),
    )
    crew.script("Grace", {"answer": "3.11"}, {"verdict": "approve", "feedback": "good"})
    ctx = crew.ctx("build", agent="Ada")
    first = await crew.team().perform(ctx)
    with crew.db.session() as s:
        recorded = len(InteractionRepository(s).list(crew.execution_id))
        knowledge = len(KnowledgeRepository(s).list_for_workflow(crew.workflow_id))

    # The process dies after the attempt's last durable call; the engine replays it.
    replay = Durable(replaying=crew.durable.records)
    crew.script("Ada")  # no turns: any model request would fail the test
    crew.script("Grace")
    second = await crew.team().perform(replace(ctx, durable=replay))

    assert first.status == second.status == "completed"
    assert second.result == first.result
    assert second.usage == first.usage and first.usage.model_calls == 5
    assert replay.names == crew.durable.names and not replay.replaying
    with crew.db.session() as s:
        assert len(InteractionRepository(s).list(crew.execution_id)) == recorded
        assert len(KnowledgeRepository(s).list_for_workflow(crew.workflow_id)) == knowledge
