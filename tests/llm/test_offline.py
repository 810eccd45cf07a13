"""The offline model, through the same pydantic-ai Agent code path as a real model."""

import json
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
from accord.team.prompts import answer_prompt, step_prompt

INSTRUCTIONS = (
    "You are Ann, a analyst.\n\nYou work in a team. Your teammates: "
    "Bob (writer; skills: writing, editing); Cy (reviewer; skills: review).\n\nWrite formally."
)
STEP_PROMPT = """# Step: Market research

## Description
Study the market for "robot lawn mowers for small gardens".

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

## Brief from Cy (coordinator)
What teammates already found in this run:
- `scope` (Bob): The scope is EU garden robots only.

## Who knows what
- Bob (writer; skills: writing, editing): finished `scope` (Scope the market)
- Cy (reviewer; skills: review): nothing finished yet

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
            title: str,
            content: str,
            knowledge_type: str = "insight",
            tags: list[str] | None = None,
            subject: str | None = None,
        ) -> str:
            """Share something the team should know."""
            log.append(
                (
                    "share_knowledge",
                    {
                        "title": title,
                        "content": content,
                        "knowledge_type": knowledge_type,
                        "subject": subject,
                    },
                )
            )
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


async def test_the_deliverable_is_drawn_from_what_the_step_was_given() -> None:
    result = await run_step(OfflineModel(seed=3))

    assert result.summary.startswith("[offline model]")
    assert "Market research" in result.summary
    sections = ("## Findings", "## Decisions", "## Open points")
    assert all(section in result.output for section in sections)
    findings = result.output.split("## Findings")[1].split("## Decisions")[0]
    assert "From `scope` (Bob): The scope is EU garden robots only." in findings
    assert "robots sell for about 900 EUR" in findings  # team knowledge
    # The scope names competitors: that criterion is met; nothing gives a size estimate, so
    # that one is an open point, not a claim.
    decisions = result.output.split("## Decisions")[1].split("## Open points")[0]
    assert "Meets 'names three competitors'" in decisions
    open_points = result.output.split("## Open points")[1]
    assert "Not yet covered: 'gives a size estimate'" in open_points
    assert result.questions == [open_points.strip().removeprefix("- ")]
    assert "offline model" in result.output


async def test_it_asks_the_teammate_who_can_fill_a_gap_and_uses_the_answer() -> None:
    log = ToolLog()
    model = OfflineModel(seed=5)

    result = await run_step(model, log)

    names = log.names()
    assert names[0] == "search_knowledge"
    asked = dict(log.calls)["ask_question"]
    assert asked["to"] == "Bob"  # the teammate with finished work, never Ann herself
    # The question names the gap: the criterion nothing supports, and its missing words.
    assert "'gives a size estimate'" in asked["question"]
    assert "'estimate'" in asked["question"]
    assert "check the 2025 retail figures" in result.output  # the answer is used
    assert "delegate_task" not in names  # nothing asks for sub-tasks


async def test_it_asks_nothing_when_nothing_is_missing() -> None:
    log = ToolLog()
    covered = STEP_PROMPT.replace("- gives a size estimate\n", "")

    agent = Agent(
        OfflineModel(seed=5), output_type=StepResult, instructions=INSTRUCTIONS, tools=log.tools()
    )
    result = (await agent.run(covered)).output

    assert "ask_question" not in log.names()
    assert "None found." in result.output.split("## Open points")[1]


async def test_it_delegates_when_the_step_asks_for_sub_tasks() -> None:
    default, asked_for = ToolLog(), ToolLog()
    delegating = STEP_PROMPT.replace(
        "List three competitors.", "List three competitors; delegate side investigations."
    )

    await run_step(OfflineModel(seed=5), default)
    agent = Agent(
        OfflineModel(seed=5),
        output_type=StepResult,
        instructions=INSTRUCTIONS,
        tools=asked_for.tools(),
    )
    await agent.run(delegating)

    assert "delegate_task" not in default.names()
    assert dict(asked_for.calls)["delegate_task"]["to"] in ("Bob", "Cy")


async def test_it_delegates_at_random_only_when_told_to() -> None:
    eager = ToolLog()
    await run_step(OfflineModel(seed=5, delegate_rate=1.0), eager)
    assert dict(eager.calls)["delegate_task"]["to"] in ("Bob", "Cy")


async def test_shared_knowledge_has_the_type_its_content_calls_for() -> None:
    log = ToolLog()
    timeout = STEP_PROMPT.replace(
        'Study the market for "robot lawn mowers for small gardens".',
        'Study the report "Exporting 200 steps times out after 30 seconds."',
    )
    agent = Agent(
        OfflineModel(seed=5), output_type=StepResult, instructions=INSTRUCTIONS, tools=log.tools()
    )

    result = (await agent.run(timeout)).output

    shared = dict(log.calls)["share_knowledge"]
    assert shared["knowledge_type"] == "constraint"
    assert "times out after 30 seconds" in shared["content"]
    # The result's own insight is the step's decision, on a subject of its own: no duplicate.
    assert [i.knowledge_type.value for i in result.insights] == ["decision"]
    assert result.insights[0].subject != shared["subject"]


async def test_with_no_tools_offered_it_answers_directly() -> None:
    model = OfflineModel(seed=1)
    agent = Agent(model, output_type=StepResult, instructions=INSTRUCTIONS)

    result = await agent.run(STEP_PROMPT)

    assert result.usage.requests == 1 and result.usage.tool_calls == 0


REVIEW_PROMPT = (
    "Review Ann's result for the step 'Market research'.\n\nValidation criteria:\n"
    "- names three competitors\n- gives a size estimate\n\nResult:\n{result}\n\n"
    "Approve if every criterion is met."
)


async def review(model: OfflineModel, output: str) -> ReviewVerdict:
    agent = Agent(model, output_type=ReviewVerdict, instructions=INSTRUCTIONS)
    result = json.dumps({"summary": "done", "output": output})
    return (await agent.run(REVIEW_PROMPT.format(result=result))).output


async def test_a_reviewer_sends_back_a_criterion_the_deliverable_leaves_open() -> None:
    draft = (await run_step(OfflineModel(seed=1))).output

    verdict = await review(OfflineModel(seed=1), draft)

    assert verdict.verdict == "request_changes"
    assert verdict.unmet_criteria == ["gives a size estimate"]
    assert "'gives a size estimate' is not met" in verdict.feedback
    assert "'estimate'" in verdict.feedback  # the gap the author itself stated


async def test_the_rework_covers_the_criterion_and_is_approved() -> None:
    draft = (await run_step(OfflineModel(seed=1))).output
    sent_back = await review(OfflineModel(seed=1), draft)
    prompt = (
        STEP_PROMPT + "\n\n## Reviewer feedback to address in this attempt\n" + sent_back.feedback
    )
    agent = Agent(OfflineModel(seed=1), output_type=StepResult, instructions=INSTRUCTIONS)

    rework = (await agent.run(prompt)).output
    verdict = await review(OfflineModel(seed=1), rework.output)

    assert ADDRESSED_MARKER in rework.output
    assert "Meets 'gives a size estimate' (reworked after review)" in rework.output
    assert verdict.verdict == "approve"


async def test_a_picky_reviewer_asks_for_changes_on_work_that_covers_everything() -> None:
    covered = (
        "# Market research\n- Meets 'names three competitors'\n- Meets 'gives a size estimate'"
    )

    lenient = await review(OfflineModel(seed=1), covered)
    picky = await review(OfflineModel(seed=1, change_request_rate=1.0), covered)

    assert lenient.verdict == "approve"
    assert picky.verdict == "request_changes"


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


async def test_a_teammate_answers_from_its_own_work() -> None:
    own = {
        "results": [
            {
                "stepId": "pricing",
                "summary": "Robots sell for about 900 EUR in the EU.",
                "output": "## Decisions\n- Use the 2025 retail figures: they are the latest.",
            }
        ],
        "knowledge": [],
    }
    instructions = "You are Bob, a writer.\n\nYour teammates: Ann (analyst; skills: research)."
    agent = Agent(OfflineModel(seed=2), output_type=Answer, instructions=instructions)

    async def ask(question: str) -> str:
        prompt = answer_prompt(asker="Ann", step_name="Market research", question=question, own=own)
        return (await agent.run(prompt)).output.answer

    known = await ask("Which year's retail figures should I use?")
    unknown = await ask("Which launch date did marketing pick?")

    assert known.startswith("[offline model] Bob answers")
    assert "Use the 2025 retail figures" in known and "my `pricing` result" in known
    assert "does not cover" in unknown and "2025" not in unknown


async def test_a_vote_follows_the_evidence_both_ways() -> None:
    ballot = create_model("Ballot", __base__=Vote, choice=(Literal["bug", "feature"], ...))

    async def vote(report: str) -> Vote:
        prompt = (
            "The team must decide: Bug or feature?.\n\n## What the team has so far\n"
            f"### triage\nSummary: {report}\n\n## Your vote\nChoose exactly one of: bug, feature."
        )
        return (await Agent(OfflineModel(seed=7), output_type=ballot).run(prompt)).output

    bug = await vote('Report: "Exporting a workflow with 200 steps times out after 30 seconds."')
    feature = await vote('Report: "Please add a dark mode to the dashboard."')

    assert bug.choice == "bug" and "times out after 30 seconds" in bug.rationale
    assert feature.choice == "feature" and "Please add a dark mode" in feature.rationale


def test_a_step_prompts_closing_request_is_not_read_as_its_expected_output():
    step = WorkflowStep.model_validate(
        {"id": "design", "name": "Design", "expectedOutput": "A design doc and its risks"}
    )
    prompt = step_prompt(step, dependency_results={}, knowledge=[], feedback=None, inputs={})
    assert read_brief("", [prompt]).section("expected output") == "A design doc and its risks"


def built_on(step: str, results: dict[str, tuple[str, str, str]]) -> str:
    """The prompt of a step built on earlier results: step ID -> (author, summary, output)."""
    found = "\n".join(f"- `{sid}` ({who}): {summary}" for sid, (who, summary, _) in results.items())
    return step_prompt(
        WorkflowStep(id=step.lower(), name=step, instructions="Work on your track."),
        dependency_results={
            sid: {"summary": summary, "output": output}
            for sid, (_, summary, output) in results.items()
        },
        knowledge=[],
        feedback=None,
        inputs={},
        brief=f"## Brief from Cy (coordinator)\nWhat teammates already found in this run:\n{found}",
    )


async def test_a_track_takes_up_its_own_question_of_the_plan_and_the_merge_keeps_every_track():
    for_ann = 'Question for Ann (analyst): what does analysis tell us about "mowers"?'
    for_bob = 'Question for Bob (writing, editing): what does writing tell us about "mowers"?'
    plan = ("Cy", f"Plan: {for_bob}", f"# Plan\n\n## Decisions\n- {for_bob}\n- {for_ann}")
    agent = Agent(OfflineModel(seed=1), output_type=StepResult, instructions=INSTRUCTIONS)

    track = (await agent.run(built_on("Analysis", {"plan": plan}))).output

    assert for_ann in track.output and "Question for Bob" not in track.output
    assert "Question for Ann" in track.summary
    merger = Agent(
        OfflineModel(seed=1),
        output_type=StepResult,
        instructions="You are Cy, a reviewer.\n\nYour teammates: Ann (analyst); Bob (writer).",
    )
    tracks = {"analysis": ("Ann", f"Analysis: {for_ann}", ""), "writing": ("Bob", for_bob, "")}
    merged = (await merger.run(built_on("Merge", tracks))).output
    assert for_ann in merged.output and for_bob in merged.output
