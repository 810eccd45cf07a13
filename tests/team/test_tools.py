"""Collaboration tools: questions (to teammates and to the user), delegation, feedback,
knowledge; each call an interaction row with its event."""

import asyncio

from accord.domain.enums import InteractionType, QuestionStatus, StepRunStatus
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.knowledge import KnowledgeBase

from .helpers import answer, call, slow

STEPS = [{"id": "build", "name": "Build the service", "instructions": "Write it in Python"}]


def questions(crew):
    with crew.db.session() as s:
        return InteractionRepository(s).list(
            crew.execution_id, interaction_type=InteractionType.QUESTION
        )


async def test_a_teammate_answers_a_question_with_its_own_model(make_crew):
    crew = make_crew(steps=STEPS)
    ada = crew.script(
        "Ada", call("ask_question", to="Grace", question="Which test runner?"), answer()
    )
    grace = crew.script("Grace", {"answer": "pytest, with xdist", "data": {"runner": "pytest"}})

    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))

    assert outcome.status == "completed"
    assert "Which test runner?" in grace.prompt_text() and "Ada" in grace.prompt_text()
    assert "Grace answers: pytest, with xdist" in ada.prompt_text(1)
    [q] = questions(crew)
    assert (q.from_agent_id, q.to_agent_id, q.related_step_id) == (
        crew.id("Ada"),
        crew.id("Grace"),
        "build",
    )
    assert q.requires_response and q.response_received
    assert q.response_status is QuestionStatus.ANSWERED
    assert (q.response_message, q.response_data) == ("pytest, with xdist", {"runner": "pytest"})
    assert q.responded_at is not None
    assert 299 <= (q.response_deadline - q.created_at).total_seconds() <= 301
    assert outcome.usage.model_calls == 3  # Ada twice, Grace once
    with crew.db.session() as s:
        kinds = [
            e.kind
            for e in EventRepository(s).of_execution(
                user_id=crew.user_id, execution_id=crew.execution_id
            )
        ]
    assert kinds.count("interaction.answered") == 1


async def test_a_question_that_misses_its_deadline_is_expired_and_the_step_goes_on(make_crew):
    crew = make_crew(steps=STEPS, coordination={"questionDeadlineMinutes": 0.002})
    ada = crew.script(
        "Ada",
        call("ask_question", to="Grace", question="Still there?"),
        answer(summary="went on alone"),
    )
    crew.script("Grace", slow(5, {"answer": "too late"}))

    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))

    assert outcome.status == "completed"
    assert outcome.result["summary"] == "went on alone"
    assert "No answer from Grace before the deadline" in ada.prompt_text(1)
    [q] = questions(crew)
    assert q.response_status is QuestionStatus.EXPIRED
    assert not q.response_received and q.responded_at is None and q.response_message is None


async def test_an_unanswered_question_fails_the_step_when_the_workflow_says_so(make_crew):
    crew = make_crew(
        steps=STEPS,
        coordination={"questionDeadlineMinutes": 0.002, "failOnUnansweredQuestion": True},
    )
    crew.script("Ada", call("ask_question", to="Grace", question="Still there?"), answer())
    crew.script("Grace", slow(5, {"answer": "too late"}))
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "failed"
    assert "question to Grace was not answered within" in outcome.error
    assert "failOnUnansweredQuestion" in outcome.error
    assert questions(crew)[0].response_status is QuestionStatus.EXPIRED


async def test_the_user_answers_a_question_through_its_row(make_crew):
    crew = make_crew(steps=STEPS)
    ada = crew.script(
        "Ada", call("ask_question", to="user", question="Which Python version?"), answer()
    )
    performing = asyncio.create_task(crew.team().perform(crew.ctx("build", agent="Ada")))
    pending = []
    while not pending:
        await asyncio.sleep(0.02)
        with crew.db.session() as s:
            pending = InteractionRepository(s).pending_questions_for_user(crew.user_id)
    with crew.db.session() as s:  # what POST /interactions/{id}/answer does
        InteractionRepository(s).record_response(pending[0].id, message="3.11")

    outcome = await asyncio.wait_for(performing, 10)

    assert outcome.status == "completed"
    assert "The user answers: 3.11" in ada.prompt_text(1)
    [q] = questions(crew)
    assert (q.to_user_id, q.to_agent_id, q.response_status) == (
        crew.user_id,
        None,
        QuestionStatus.ANSWERED,
    )


async def test_a_question_to_the_user_expires_at_its_deadline(make_crew):
    crew = make_crew(steps=STEPS, coordination={"questionDeadlineMinutes": 0.002})
    ada = crew.script("Ada", call("ask_question", to="user", question="Anyone?"), answer())
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert "No answer from user before the deadline" in ada.prompt_text(1)
    assert questions(crew)[0].response_status is QuestionStatus.EXPIRED


async def test_an_unknown_teammate_is_sent_back_to_the_model(make_crew):
    crew = make_crew(steps=STEPS)
    ada = crew.script(
        "Ada",
        call("ask_question", to="Bob", question="Hi?"),
        call("give_feedback", to="team", message="Keep commits small"),
        answer(),
    )
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert "'Bob' is not one of your teammates; choose one of: Grace, Linus" in ada.prompt_text(1)
    assert questions(crew) == []
    with crew.db.session() as s:
        [fb] = InteractionRepository(s).list(
            crew.execution_id, interaction_type=InteractionType.FEEDBACK
        )
    assert (fb.from_agent_id, fb.to_agent_id, fb.message) == (
        crew.id("Ada"),
        None,
        "Keep commits small",
    )


async def test_a_delegated_sub_task_runs_as_a_child_execution(make_crew):
    crew = make_crew(steps=STEPS)
    crew.children.answer = "benchmarks: 120 req/s"
    seen_while_running: list[tuple[str | None, QuestionStatus | None]] = []

    def look(child_id: str) -> None:
        with crew.db.session() as s:
            [d] = InteractionRepository(s).list(
                crew.execution_id, interaction_type=InteractionType.TASK_DELEGATION
            )
        seen_while_running.append((d.related_task_id, d.response_status))

    crew.children.while_running = look
    ada = crew.script(
        "Ada",
        call(
            "delegate_task",
            to="Grace",
            title="Benchmark",
            instructions="Measure throughput",
            expected_output="req/s",
        ),
        answer(),
    )
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert crew.children.delegated == [{"agentId": crew.id("Grace"), "title": "Benchmark"}]
    assert "Grace delivered: benchmarks: 120 req/s" in ada.prompt_text(1)
    with crew.db.session() as s:
        [d] = InteractionRepository(s).list(
            crew.execution_id, step_id="build", interaction_type=InteractionType.TASK_DELEGATION
        )
    assert (d.from_agent_id, d.to_agent_id) == (crew.id("Ada"), crew.id("Grace"))
    assert d.context_data["instructions"] == "Measure throughput"
    assert d.response_status is QuestionStatus.ANSWERED
    assert d.response_data["status"] == "completed"
    # The delegation names the child execution doing the task (the spec's relatedTaskId) as
    # soon as the child exists, while the teammate still works on it.
    assert seen_while_running == [(crew.children.started[0], QuestionStatus.PENDING)]
    assert d.related_task_id == crew.children.started[0]


async def test_agents_share_search_and_validate_knowledge(make_crew):
    crew = make_crew(steps=STEPS)
    with crew.db.session() as s:
        entry = KnowledgeBase(s, workflow_id=crew.workflow_id, user_id=crew.user_id).share(
            agent_id=crew.id("Grace"),
            title="Connection pooling",
            content="Use one pool per process",
        )
    ada = crew.script(
        "Ada",
        call("search_knowledge", query="pool"),
        call("validate_knowledge", knowledge_id=entry.id),
        call(
            "share_knowledge",
            title="Timeouts",
            content="Set 30 s timeouts",
            tags=["http"],
            knowledge_type="best_practice",
        ),
        answer(),
    )
    outcome = await crew.team().perform(crew.ctx("build", agent="Ada"))
    assert outcome.status == "completed"
    assert "Connection pooling" in ada.prompt_text(1)
    assert f"Validated knowledge {entry.id}" in ada.prompt_text(2)
    with crew.db.session() as s:
        repo = KnowledgeRepository(s)
        pooled = repo.get(entry.id)
        [shared] = [k for k in repo.list_for_workflow(crew.workflow_id) if k.title == "Timeouts"]
        sharing = InteractionRepository(s).list(
            crew.execution_id, interaction_type=InteractionType.KNOWLEDGE_SHARING
        )
    assert pooled.validated_by_agents == [crew.id("Ada")]
    assert pooled.usage_count == 1
    assert (shared.knowledge_type.value, shared.tags, shared.created_by_agent_id) == (
        "best_practice",
        ["http"],
        crew.id("Ada"),
    )
    # Using a teammate's knowledge is collaboration with its author, recorded as such.
    ada_id, grace_id = crew.id("Ada"), crew.id("Grace")
    assert [(i.from_agent_id, i.to_agent_id, i.context_data.get("use")) for i in sharing] == [
        (ada_id, grace_id, "search"),
        (ada_id, grace_id, "validate"),
        (ada_id, None, None),
    ]
    assert pooled.status.value == "validated"
    # The deliverable cites the knowledge it used.
    sources = outcome.result["output"].split("## Sources")[1]
    assert f"'Connection pooling' by Grace (unvalidated) (knowledge {entry.id})" in sources


def finished(crew, step_id, agent, output):
    """A completed attempt of this execution, done by `agent`, with `output` as its result."""
    with crew.db.session() as s:
        runs = StepRunRepository(s)
        run = runs.start(
            runs.create(execution_id=crew.execution_id, step_id=step_id, attempt=1),
            agent_id=crew.id(agent),
            executor_id="t",
        )
        runs.finish(run, StepRunStatus.COMPLETED, output=output)


async def test_an_agent_is_briefed_on_who_knows_what_and_asks_the_one_who_does(make_crew):
    steps = [
        {"id": "design", "name": "Design the API"},
        {"id": "build", "name": "Build the service", "dependsOn": ["design"]},
    ]
    crew = make_crew(steps=steps, coordinator="Linus")
    design = answer(
        summary="REST API with cursor pagination",
        output="## Decisions\n- Page size 50, cursor in the Link header",
        questions=["Rate limits are not decided"],
    )
    finished(crew, "design", "Grace", design)
    with crew.db.session() as s:
        KnowledgeBase(s, workflow_id=crew.workflow_id, user_id=crew.user_id).share(
            agent_id=crew.id("Grace"), title="Cursor pagination", content="Cursors, not offsets"
        )
    ada = crew.script(
        "Ada",
        call("ask_question", to="Grace", question="Which page size did you pick?"),
        answer(summary="built", output="the service"),
    )
    grace = crew.script("Grace", {"answer": "50, as in my design"})

    outcome = await crew.team().perform(
        crew.ctx("build", agent="Ada", dependency_results={"design": design})
    )

    prompt = ada.prompt_text()
    assert "## Brief from Linus (coordinator)" in prompt
    assert "- `design` (Grace): REST API with cursor pagination" in prompt
    assert "open point: Rate limits are not decided" in prompt
    assert "Grace (reviewer; skills: code review, testing): finished `design` (Design the API)" in (
        prompt
    )
    assert "wrote [" in prompt and "Cursor pagination (insight, unvalidated)" in prompt
    assert "Linus (coordinator; skills: planning): nothing finished yet" in prompt
    # Grace answers from her own work: her result and the knowledge she wrote, nothing else.
    answering = grace.prompt_text()
    assert "Which page size did you pick?" in answering
    assert "## Your results in this run" in answering and "Page size 50" in answering
    assert "## Knowledge you wrote" in answering and "Cursors, not offsets" in answering
    # The deliverable cites the question and its answer.
    [q] = questions(crew)
    sources = outcome.result["output"].split("## Sources\n")[1]
    assert sources == (
        "- Question to Grace: Which page size did you pick? Answer: 50, as in my design "
        f"(interaction {q.id})"
    )


async def test_a_long_run_briefs_the_latest_results_and_counts_the_rest(make_crew):
    """Step 31 of a run is briefed on the latest finished steps, not all 30: its prompt (and
    what a teammate answers from) stays the size of an early step's."""
    steps = [{"id": f"s{i}", "name": f"Part {i}"} for i in range(1, 32)]
    crew = make_crew(steps=steps, coordinator="Linus")
    for i in range(1, 31):
        finished(crew, f"s{i}", "Grace" if i % 2 else "Linus", answer(summary=f"found {i}"))
    ada = crew.script(
        "Ada",
        call("ask_question", to="Grace", question="What did part 3 find?"),
        answer(summary="built", output="the part"),
    )
    grace = crew.script("Grace", {"answer": "see my latest parts"})

    await crew.team().perform(crew.ctx("s31", agent="Ada"))

    prompt = ada.prompt_text()
    briefed = [i for i in range(1, 31) if f"- `s{i}` (" in prompt]
    assert briefed == list(range(23, 31))  # the latest eight, oldest first
    assert "- and 22 earlier results, not listed: search the team's knowledge" in prompt
    assert (
        "Grace (reviewer; skills: code review, testing): finished `s21` (Part 21); finished "
        "`s23` (Part 23); finished `s25` (Part 25); finished `s27` (Part 27); finished `s29` "
        "(Part 29); 10 earlier step(s)"
    ) in prompt
    answering = grace.prompt_text()
    assert [i for i in range(1, 31) if f"### s{i}\n" in answering] == [21, 23, 25, 27, 29]
