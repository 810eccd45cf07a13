"""The offline model, through the same pydantic-ai Agent code path as a real model."""

import time
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, create_model
from pydantic_ai import Agent, NativeOutput, PromptedOutput, Tool, ToolOutput

from accord.domain.step_result import ReviewVerdict, StepResult, Vote
from accord.domain.workflow import WorkflowStep
from accord.llm.offline import OfflineModel
from accord.llm.offline_answers import ADDRESSED_MARKER
from accord.llm.offline_brief import read_brief
from accord.team.prompts import step_prompt

INSTRUCTIONS = (
    "You are Ann, a analyst.\n\nYou work in a team. Your teammates: "
    "Bob (writer; skills: writing, editing); Cy (reviewer; skills: review).\n\nWrite formally."
)
STEP_PROMPT = """# Step: Market research

## Description
Study the market for garden robots.

## Instructions
List three competitors. Estimate the market size.

## Expected output
A one-page report naming competitors and the market size.

## Validation criteria (a reviewer checks these)
- names three competitors
- gives a size estimate

## Results this step builds on
### scope
Summary: The scope is EU garden robots only.

The full scope document.

## Relevant team knowledge
- [k-17] Pricing: robots sell for about 900 EUR

Do the step, then answer with the step result."""


class ToolLog:
    """Collaboration tools shaped like the team's, recording every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def tools(self) -> list[Tool[None]]:
        log = self.calls

        def search_knowledge(query: str) -> list[dict[str, str]]:
            """Search the team's knowledge."""
            log.append(("search_knowledge", {"query": query}))
            return [{"title": "Pricing", "content": "about 900 EUR"}]

        def validate_knowledge(knowledge_id: str) -> str:
            """Confirm a knowledge entry is right."""
            log.append(("validate_knowledge", {"knowledge_id": knowledge_id}))
            return "Validated."

        def ask_question(to: str, question: str, requires_response: bool = True) -> str:
            """Ask a teammate a question."""
            log.append(("ask_question", {"to": to, "question": question}))
            return f"{to} answers: check the 2025 retail figures."

        def share_knowledge(
            title: str, content: str, knowledge_type: str = "insight", tags: list[str] | None = None
        ) -> str:
            """Share something the team should know."""
            log.append(("share_knowledge", {"title": title, "content": content}))
            return "Shared."

        def give_feedback(to: str, message: str) -> str:
            """Give a teammate feedback."""
            log.append(("give_feedback", {"to": to, "message": message}))
            return "Feedback recorded."

        def delegate_task(to: str, title: str, instructions: str, expected_output: str) -> str:
            """Hand a sub-task to a teammate."""
            log.append(("delegate_task", {"to": to}))
            return "Delegated."

        functions = [
            search_knowledge,
            validate_knowledge,
            ask_question,
            share_knowledge,
            give_feedback,
            delegate_task,
        ]
        return [Tool(fn) for fn in functions]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


async def run_step(model: OfflineModel, log: ToolLog | None = None) -> StepResult:
    tools = log.tools() if log else []
    agent = Agent(model, output_type=StepResult, instructions=INSTRUCTIONS, tools=tools)
    return (await agent.run(STEP_PROMPT)).output


async def test_same_seed_same_answer_and_another_seed_another_answer() -> None:
    first = await run_step(OfflineModel(seed=1))
    again = await run_step(OfflineModel(seed=1))
    other = await run_step(OfflineModel(seed=2))

    assert first == again
    assert other.output != first.output


async def test_the_step_result_reflects_the_step_and_its_inputs() -> None:
    result = await run_step(OfflineModel(seed=3))

    assert result.summary.startswith("[offline model]")
    assert "Market research" in result.summary
    for quoted in (
        "Study the market for garden robots.",  # description
        "List three competitors",  # instructions
        "A one-page report naming competitors and the market size.",  # expected output
        "names three competitors",  # a validation criterion
        "The scope is EU garden robots only.",  # a dependency's summary
        "Pricing: robots sell for about 900 EUR",  # team knowledge
    ):
        assert quoted in result.output
    assert "offline model" in result.output
    assert result.insights and "Market research" in result.insights[0].content


async def test_it_uses_the_collaboration_tools_before_answering() -> None:
    log = ToolLog()
    model = OfflineModel(seed=5, question_rate=1.0, feedback_rate=1.0)

    result = await run_step(model, log)

    names = log.names()
    assert names[0] == "search_knowledge"
    assert names.count("share_knowledge") == 1
    assert "ask_question" in names and "give_feedback" in names
    assert "delegate_task" not in names
    asked = dict(log.calls)["ask_question"]
    assert asked["to"] in ("Bob", "Cy")  # a teammate from the instructions, never Ann herself
    assert "Market research" in dict(log.calls)["search_knowledge"]["query"]
    assert "check the 2025 retail figures" in result.output  # the answer is used


async def test_it_delegates_only_when_told_to() -> None:
    default, eager = ToolLog(), ToolLog()

    await run_step(OfflineModel(seed=5), default)
    await run_step(OfflineModel(seed=5, delegate_rate=1.0), eager)

    assert "delegate_task" not in default.names()
    assert dict(eager.calls)["delegate_task"]["to"] in ("Bob", "Cy")


async def test_whether_it_asks_a_question_depends_on_the_seed() -> None:
    asked = []
    for seed in range(12):
        log = ToolLog()
        await run_step(OfflineModel(seed=seed), log)
        asked.append("ask_question" in log.names())

    assert any(asked) and not all(asked)


async def test_with_no_tools_offered_it_answers_directly() -> None:
    model = OfflineModel(seed=1)
    agent = Agent(model, output_type=StepResult, instructions=INSTRUCTIONS)

    result = await agent.run(STEP_PROMPT)

    assert result.usage.requests == 1 and result.usage.tool_calls == 0


REVIEW_PROMPT = (
    "Review Ann's result for the step 'Market research'.\n\nValidation criteria:\n"
    "- names three competitors\n\nResult:\n{result}\n\nApprove or request changes."
)


async def review(model: OfflineModel, result_text: str) -> ReviewVerdict:
    agent = Agent(model, output_type=ReviewVerdict, instructions=INSTRUCTIONS)
    return (await agent.run(REVIEW_PROMPT.format(result=result_text))).output


async def test_a_reviewer_requests_changes_on_a_first_review_and_approves_the_rework() -> None:
    strict = OfflineModel(seed=1, change_request_rate=1.0)

    first = await review(strict, '{"output": "# Market research\\nThree competitors."}')
    rework = await review(strict, f'{{"output": "## {ADDRESSED_MARKER}\\nNow explicit."}}')

    assert first.verdict == "request_changes"
    assert first.unmet_criteria == ["names three competitors"]
    assert first.feedback.startswith("[offline model]")
    assert rework.verdict == "approve"


async def test_a_reviewer_with_rate_zero_always_approves_and_the_default_sometimes_asks() -> None:
    lenient = [await review(OfflineModel(seed=s, change_request_rate=0), f"r{s}") for s in range(8)]
    default = [await review(OfflineModel(seed=s), f"result {s}") for s in range(16)]

    assert {v.verdict for v in lenient} == {"approve"}
    assert {v.verdict for v in default} == {"approve", "request_changes"}


async def test_a_reworked_step_says_it_addressed_the_feedback() -> None:
    prompt = STEP_PROMPT + "\n\n## Reviewer feedback to address in this attempt\nAdd sources."
    agent = Agent(OfflineModel(seed=1), output_type=StepResult, instructions=INSTRUCTIONS)

    result = (await agent.run(prompt)).output

    assert ADDRESSED_MARKER in result.output and "Add sources." in result.output


async def test_a_voter_picks_one_of_the_options_with_a_rationale() -> None:
    agent = Agent(OfflineModel(seed=4), output_type=Vote, instructions=INSTRUCTIONS)
    prompt = "Decide how to launch.\n\nOptions:\n- online first\n- retail first\n- both"

    vote = (await agent.run(prompt)).output

    assert vote.choice in ("online first", "retail first", "both")
    assert vote.rationale.startswith("[offline model]")


class Choice(BaseModel):
    agent: str = Field(description="The chosen teammate's ID or exact name.")
    reason: str = Field(min_length=1)


async def test_a_coordinator_assigns_a_listed_teammate_whose_skills_fit() -> None:
    prompt = (
        "Assign the best teammate for this step.\n\nStep: Edit the report\n"
        "Required skills: editing\n\nTeammates:\n"
        "- id a-1: Ann (analyst; skills: research)\n- id b-2: Bob (writer; skills: editing)"
    )
    agent = Agent(OfflineModel(seed=9), output_type=Choice, instructions="You coordinate.")

    choice = (await agent.run(prompt)).output

    assert choice.agent == "b-2"
    assert "Edit the report" in choice.reason


class Unusual(BaseModel):
    """An output type the offline model has never heard of."""

    title: str = Field(min_length=3, max_length=20)
    priority: Literal["low", "high"]
    count: int = Field(ge=2, le=5)
    tags: list[str] = Field(min_length=1)
    nested: Choice
    note: str | None = None


@pytest.mark.parametrize("output_type", [StepResult, ReviewVerdict, Vote, Choice, Unusual])
async def test_its_structured_answers_always_validate(output_type: type[BaseModel]) -> None:
    for seed in range(5):
        agent = Agent(OfflineModel(seed=seed), output_type=output_type, retries={"output": 0})
        result = await agent.run(STEP_PROMPT)
        assert isinstance(result.output, output_type)


@pytest.mark.parametrize(
    "output_spec",
    [NativeOutput(StepResult), PromptedOutput(StepResult), ToolOutput(StepResult, name="deliver")],
    ids=["native", "prompted", "named-tool"],
)
async def test_every_output_mode_gets_a_valid_answer(output_spec: Any) -> None:
    agent = Agent(OfflineModel(seed=1), output_type=output_spec, retries={"output": 0})

    result = await agent.run(STEP_PROMPT)

    assert isinstance(result.output, StepResult)
    assert "Market research" in result.output.summary


async def test_free_text_says_it_is_offline() -> None:
    agent = Agent(OfflineModel(seed=1), instructions=INSTRUCTIONS)

    text = (await agent.run(STEP_PROMPT)).output

    assert text.startswith("[offline model]") and "Market research" in text


async def test_latency_is_honoured_on_every_request() -> None:
    log = ToolLog()
    model = OfflineModel(seed=5, latency_seconds=0.05, question_rate=0.0, feedback_rate=0.0)
    started = time.monotonic()

    await run_step(model, log)

    requests = len(log.calls) + 1
    assert time.monotonic() - started >= 0.05 * requests


async def test_it_reports_usage_from_the_text_length() -> None:
    agent = Agent(OfflineModel(seed=1), output_type=StepResult, instructions=INSTRUCTIONS)

    result = await agent.run(STEP_PROMPT)

    assert result.usage.input_tokens >= len(STEP_PROMPT + INSTRUCTIONS) // 4
    assert result.usage.output_tokens >= len(result.output.output) // 4
    assert result.response.model_name == "accord-offline"


async def test_a_streamed_run_works_like_a_plain_one() -> None:
    agent = Agent(OfflineModel(seed=1), output_type=StepResult, instructions=INSTRUCTIONS)

    async with agent.run_stream(STEP_PROMPT) as stream:
        streamed = await stream.get_output()

    assert streamed == await run_step(OfflineModel(seed=1))


async def test_voters_go_along_with_the_previous_rounds_leader() -> None:
    prompt = (
        "The team must decide: Launch channel.\n\nVotes of the previous round:\n"
        "- Ann: retail: cheaper\n- Bob: online: faster\n- Cy: online: reach\n\n"
        "Choose exactly one of: online, retail; give your rationale."
    )
    ballot = create_model("Ballot", __base__=Vote, choice=(Literal["online", "retail"], ...))

    votes = [
        (await Agent(OfflineModel(seed=s), output_type=ballot).run(prompt)).output.choice
        for s in range(6)
    ]

    assert set(votes) == {"online"}


class Answer(BaseModel):
    answer: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)


async def test_a_teammate_answers_the_question_it_was_asked() -> None:
    prompt = (
        "Your teammate Ann is working on the step 'Market research' and asks you:\n\n"
        "Which year's retail figures should I use?\n\nAnswer briefly."
    )
    instructions = "You are Bob, a writer.\n\nYour teammates: Ann (analyst; skills: research)."

    reply = await Agent(OfflineModel(seed=2), output_type=Answer, instructions=instructions).run(
        prompt
    )

    assert reply.output.answer.startswith("[offline model] Bob answers")
    assert "Which year's retail figures should I use?" in reply.output.answer


def test_a_step_prompts_closing_request_is_not_read_as_its_expected_output():
    step = WorkflowStep.model_validate(
        {"id": "design", "name": "Design", "expectedOutput": "A design doc and its risks"}
    )
    prompt = step_prompt(step, dependency_results={}, knowledge=[], feedback=None, inputs={})
    assert read_brief("", [prompt]).section("expected output") == "A design doc and its risks"
