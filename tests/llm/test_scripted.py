"""`ScriptedModel`: scripted answers for team and engine tests, through a real Agent."""

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent

from accord.domain.errors import ModelFailure
from accord.domain.step_result import ReviewVerdict, StepResult
from accord.llm.failures import model_failure
from accord.llm.testing import Reply, ScriptedModel, ScriptExhausted, ToolCall


class Choice(BaseModel):
    agent: str
    reason: str


async def test_a_coordinator_can_be_scripted_to_name_a_non_participant() -> None:
    model = ScriptedModel([Reply.output({"agent": "mallory", "reason": "she is free"})])

    choice = (await Agent(model, output_type=Choice).run("Assign the step.")).output

    assert choice == Choice(agent="mallory", reason="she is free")
    assert model.requests[0].prompt == "Assign the step."


async def test_a_reviewer_can_reject_once_then_approve() -> None:
    model = ScriptedModel(
        [
            Reply.output({"verdict": "request_changes", "feedback": "Add sources."}),
            Reply.output({"verdict": "approve", "feedback": "Good now."}),
        ]
    )
    agent = Agent(model, output_type=ReviewVerdict)

    first = (await agent.run("Review v1.")).output
    second = (await agent.run("Review v2.")).output

    assert (first.verdict, second.verdict) == ("request_changes", "approve")
    assert model.remaining == 0


async def test_tool_calls_run_the_real_tools_and_the_model_sees_their_results() -> None:
    model = ScriptedModel(
        [
            Reply.calling(ToolCall("share_knowledge", {"title": "T", "content": "C"})),
            Reply.output({"summary": "s", "output": "o"}),
        ]
    )
    agent = Agent(model, output_type=StepResult)
    shared = []

    @agent.tool_plain
    def share_knowledge(title: str, content: str) -> str:
        shared.append(title)
        return "Shared."

    await agent.run("Do it.")

    assert shared == ["T"]
    assert model.requests[0].tool_names == ["share_knowledge"]
    assert "Shared." in str(model.requests[1].messages[-1])


async def test_a_scripted_exception_is_raised_as_a_model_fault() -> None:
    model = ScriptedModel([ModelFailure("rate limited past the bound")])

    with pytest.raises(ModelFailure) as raised:
        await Agent(model, output_type=StepResult).run("Do it.")

    assert model_failure(raised.value) is raised.value


async def test_asking_more_than_scripted_is_a_loud_test_error() -> None:
    model = ScriptedModel([Reply(text="only one")])
    agent = Agent(model)
    await agent.run("first")

    with pytest.raises(ScriptExhausted, match="request 2"):
        await agent.run("second")
