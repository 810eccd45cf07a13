"""Template workflows run through the real engine with real agents: on the offline model, and
on a local OpenAI-compatible server that the real client library talks to."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from accord.domain.agent import ModelPrice
from accord.domain.enums import ExecutionStatus, InteractionType, ProviderKind, QuestionStatus
from accord.domain.execution import Usage
from accord.domain.template import CreateFromTemplateRequest
from accord.domain.workflow import UpdateWorkflowRequest
from accord.engine.service import Engine
from accord.llm.testing.fake_openai import FakeOpenAIServer
from accord.llm.testing.script import Reply, ToolCall
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.providers import ProviderRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.templates import TemplateRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.testing import scratch_postgres_database
from accord.team.metrics import execution_metrics
from accord.team.runtime import AgentTeam
from accord.team.templates import (
    SYSTEM_TEMPLATES,
    create_workflow_from_template,
    install_system_templates,
)

from .helpers import answer


def fresh_database(url: str) -> Iterator[Database]:
    database = Database(url)
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A database of this module's own: an engine recovers every running execution it
    finds, and other tests leave half-made ones in the shared database."""
    if request.param == "sqlite":
        yield from fresh_database(f"sqlite:///{tmp_path_factory.mktemp('team') / 'e2e.db'}")
        return
    with scratch_postgres_database("accord_team_e2e") as url:
        yield from fresh_database(url)


@pytest.fixture
def db(own_database: Database) -> Database:
    return own_database


async def running_engine(db: Database, state_dir: Path) -> AsyncIterator[Engine]:
    running = Engine(
        db,
        AgentTeam(db),
        executor_id=f"team-{uuid.uuid4().hex[:8]}",
        backoff_base_s=0.01,
        state_dir=state_dir,
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def engine(db: Database, tmp_path: Path) -> AsyncIterator[Engine]:
    async for running in running_engine(db, tmp_path):
        yield running


def from_template(db, user_id, key, agents, **request):
    with db.session() as s:
        install_system_templates(s)
        template = TemplateRepository(s).find_by_system_key(key)
        return create_workflow_from_template(
            s,
            user_id=user_id,
            template_id=template.id,
            request=CreateFromTemplateRequest(participating_agents=agents, **request),
        )


def usage_sums(db, execution_id):
    with db.session() as s:
        runs = StepRunRepository(s).list(execution_id)
    total = Usage()
    for r in runs:
        total += Usage(
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost_usd=r.cost_usd,
            model_calls=r.model_calls,
            tool_calls=r.tool_calls,
            tool_seconds=r.tool_seconds,
        )
    return runs, total


async def test_a_template_workflow_runs_on_the_offline_model(db, user_id, engine):
    with db.session() as s:
        agents = AgentRepository(s)
        team = [
            agents.create(user_id=user_id, name=name, role=role, skills=skills).id
            for name, role, skills in (
                ("Ada", "architect", ["design"]),
                ("Dev", "developer", ["programming"]),
                ("Rev", "reviewer", ["testing", "code review"]),
            )
        ]
    workflow = from_template(db, user_id, "feature-development", team, coordinator_agent_id=team[0])

    started = await engine.start_execution(workflow.id, user_id)
    ended = await engine.wait(started.id, timeout=120)

    assert ended.status is ExecutionStatus.COMPLETED, ended.error_message
    with db.session() as s:
        interactions = InteractionRepository(s).list(ended.id)
        knowledge = KnowledgeRepository(s).list_for_workflow(workflow.id, include_inactive=True)
        metrics = execution_metrics(s, ended.id, user_id=user_id)
    kinds = {i.interaction_type for i in interactions}
    assert {
        InteractionType.TASK_DELEGATION,
        InteractionType.KNOWLEDGE_SHARING,
        InteractionType.FEEDBACK,
    } <= kinds
    senders = {i.from_agent_id for i in interactions}
    assert senders == set(team)  # everyone took part
    assert any(
        i.context_data.get("review") == "approve"
        for i in interactions
        if i.interaction_type is InteractionType.FEEDBACK
    )
    assert knowledge and all(k.workflow_id == workflow.id for k in knowledge)
    assert "[offline model]" in ended.step_results["implement"]["output"]

    runs, total = usage_sums(db, ended.id)
    assert total.model_calls > len(runs)  # assignment, tools, reviews: more calls than steps
    assert ended.usage == total
    # The test step hands its performance check to a teammate: a child execution whose
    # tokens the per-agent figures count with the parent's.
    with db.session() as s:
        [child] = ExecutionRepository(s).children(ended.id)
    assert child.status is ExecutionStatus.COMPLETED and child.parent_step_id == "test"
    delegation = next(
        i
        for i in interactions
        if i.interaction_type is InteractionType.TASK_DELEGATION and "title" in i.context_data
    )
    assert delegation.related_task_id == child.id
    per_agent = sum(f.input_tokens + f.output_tokens for f in metrics.agents)
    assert per_agent == total.total_tokens + usage_sums(db, child.id)[1].total_tokens

    # The execution's end kept the aggregates current: workflow metrics, template success.
    with db.session() as s:
        stored = WorkflowRepository(s).get(workflow.id, user_id=user_id)
        template = TemplateRepository(s).get(stored.template_id, user_id=user_id)
    assert stored.collaboration_metrics is not None
    with db.session() as s:  # the sub-task's interactions count with its parent's
        family = InteractionRepository(s).list_for_executions([ended.id, child.id])
    assert stored.collaboration_metrics.total_interactions == len(family) > len(interactions)
    assert template.success_rate > 0


def reply(arguments, tokens_in, tokens_out, tool="final_result"):
    return Reply(
        tool_calls=(ToolCall(tool, arguments),), input_tokens=tokens_in, output_tokens=tokens_out
    )


async def test_a_template_workflow_runs_on_an_openai_compatible_server(db, user_id, engine):
    script = [
        reply({"to": "Dana", "question": "Which input?"}, 120, 12, tool="ask_question"),
        reply({"answer": "the empty body"}, 80, 8),  # Dana answers Tess
        reply(
            answer(
                summary="Reproduced",
                output="Send an empty body",
                insights=[{"title": "Empty body crash", "content": "parse('') fails"}],
            ),
            200,
            40,
        ),
        reply(answer(summary="Cause found", output="parse() indexes [0]"), 100, 10),
        reply(answer(summary="Fixed", output="Guard plus regression test"), 150, 30),
        reply({"verdict": "approve", "feedback": "The regression test covers it"}, 90, 9),
    ]
    with FakeOpenAIServer(script) as server:
        with db.session() as s:
            provider = ProviderRepository(s).create(
                user_id=user_id,
                name="local",
                kind=ProviderKind.OPENAI_COMPATIBLE,
                base_url=server.base_url,
                default_model="llama-test",
                price_overrides={"llama-test": ModelPrice(input_per_mtok=1, output_per_mtok=2)},
            )
            agents = AgentRepository(s)
            dana, tess = (
                agents.create(user_id=user_id, name=name, role=role, llm_provider_id=provider.id).id
                for name, role in (("Dana", "developer"), ("Tess", "tester"))
            )
        workflow = from_template(db, user_id, "bug-investigation", [dana, tess])
        started = await engine.start_execution(workflow.id, user_id)
        ended = await engine.wait(started.id, timeout=60)
        assert server.remaining == 0

    assert ended.status is ExecutionStatus.COMPLETED, ended.error_message
    assert ended.step_results["fix"]["summary"] == "Fixed"
    with db.session() as s:
        interactions = InteractionRepository(s).list(ended.id)
        [entry] = KnowledgeRepository(s).list_for_workflow(workflow.id)
    [question] = [i for i in interactions if i.interaction_type is InteractionType.QUESTION]
    assert (question.from_agent_id, question.to_agent_id) == (tess, dana)
    assert question.response_status is QuestionStatus.ANSWERED
    assert question.response_message == "the empty body"
    [verdict] = [i for i in interactions if i.interaction_type is InteractionType.FEEDBACK]
    assert (verdict.from_agent_id, verdict.to_agent_id) == (tess, dana)
    assert (entry.title, entry.created_by_agent_id) == ("Empty body crash", tess)
    runs, total = usage_sums(db, ended.id)
    assert (total.input_tokens, total.output_tokens, total.model_calls) == (740, 109, 6)
    assert total.cost_usd == pytest.approx(740e-6 + 2 * 109e-6)
    assert ended.usage == total
    by_step = {r.step_id: r.input_tokens for r in runs}
    assert by_step == {"reproduce": 400, "diagnose": 100, "fix": 240}


@pytest.fixture(scope="module")
def templates_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """SQLite alone: every template on both backends would add time and show nothing the two
    tests above do not."""
    yield from fresh_database(f"sqlite:///{tmp_path_factory.mktemp('team') / 'templates.db'}")


@pytest.fixture
async def sqlite_engine(templates_database: Database, tmp_path: Path) -> AsyncIterator[Engine]:
    async for running in running_engine(templates_database, tmp_path):
        yield running


@pytest.mark.parametrize("key", sorted(SYSTEM_TEMPLATES))
async def test_every_system_template_completes_on_the_offline_model(key, sqlite_engine):
    db = sqlite_engine.db
    with db.session() as s:
        user_id = (
            UserRepository(s)
            .create(email=f"{uuid.uuid4().hex[:8]}@example.test", display_name="T")
            .id
        )
        agents = AgentRepository(s)
        roles = SYSTEM_TEMPLATES[key].required_agent_roles
        team = [
            agents.create(user_id=user_id, name=f"{role.title()} {i}", role=role).id
            for i, role in enumerate(roles)
        ]
    workflow = from_template(db, user_id, key, team, coordinator_agent_id=team[0])

    started = await sqlite_engine.start_execution(workflow.id, user_id)
    ended = await sqlite_engine.wait(started.id, timeout=120)

    assert ended.status is ExecutionStatus.COMPLETED, ended.error_message
    with db.session() as s:
        runs = StepRunRepository(s).list(ended.id)
    ran = {r.step_id for r in runs if r.status.value == "completed"}
    skipped = {r.step_id for r in runs if r.status.value == "skipped"}
    steps = {st.id for st in workflow.configuration.steps}
    assert ran | skipped == steps
    if key == "code-review":  # a majority vote: every participant voted, with a rationale
        votes = ended.step_results["merge"]["data"]["votes"]
        assert {v["agentId"] for v in votes} >= set(team)
        assert all(v["rationale"] for v in votes)
    with db.session() as s:
        interactions = InteractionRepository(s).list_for_executions(
            [ended.id, *(c.id for c in ExecutionRepository(s).children(ended.id))]
        )
    verdicts = [
        (i.related_step_id, i.context_data.get("review"))
        for i in interactions
        if i.interaction_type is InteractionType.FEEDBACK and "review" in i.context_data
    ]
    if key in ("feature-development", "bug-investigation"):
        # What the templates advertise shows in a default run: the review finds a criterion
        # nothing supports, sends the work back once, and approves the rework.
        reviewed = "implement" if key == "feature-development" else "fix"
        assert [v for step, v in verdicts if step == reviewed] == ["request_changes", "approve"]
    if key == "bug-investigation":  # "delegating sub-investigations"
        delegations = [
            i
            for i in interactions
            if i.interaction_type is InteractionType.TASK_DELEGATION and "title" in i.context_data
        ]
        assert [d.related_step_id for d in delegations] == ["diagnose"]
        assert delegations[0].response_status is QuestionStatus.ANSWERED
    if key == "test-strategy":  # exactly one branch of the decision ran
        outcome = ended.step_results["scope"]["data"]["outcome"]
        assert ran & {"full_suite", "smoke"} == {"full_suite" if outcome == "full" else "smoke"}
    else:
        assert not skipped


async def test_a_spent_budget_stops_the_execution(db, user_id, engine):
    with db.session() as s:
        agents = AgentRepository(s)
        team = [
            agents.create(user_id=user_id, name=n, role=r).id
            for n, r in (("Ada", "researcher"), ("Rev", "reviewer"))
        ]
    workflow = from_template(db, user_id, "research-brief", team)
    with db.session() as s:
        config = workflow.configuration.model_copy(deep=True)
        config.constraints.budget_tokens = 1500
        WorkflowRepository(s).update(
            workflow.id, user_id=user_id, request=UpdateWorkflowRequest(configuration=config)
        )

    started = await engine.start_execution(workflow.id, user_id)
    ended = await engine.wait(started.id, timeout=60)

    assert ended.status is ExecutionStatus.FAILED
    assert "Token budget exceeded" in ended.error_message
    runs, total = usage_sums(db, ended.id)
    assert [r.attempt for r in runs if r.status.value == "failed"] == [1]  # not retried
    assert total.total_tokens >= 1500
    with db.session() as s:
        stored = WorkflowRepository(s).get(workflow.id, user_id=user_id)
        template = TemplateRepository(s).get(stored.template_id, user_id=user_id)
    assert stored.collaboration_metrics is not None
    assert template.success_rate < 100
