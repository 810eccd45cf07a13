"""A structured step result through a pydantic-ai Agent, with tool calls, over real HTTP.

The fake servers play the model; the real SDK clients and pydantic-ai do everything else:
offering the tools and the output schema, running the tools, sending invalid output back
with the validation error.
"""

import json
from collections.abc import Iterator

import pytest
from pydantic_ai import Agent

from accord.domain.enums import ProviderKind
from accord.domain.step_result import StepResult
from accord.llm.failures import model_failure
from accord.llm.models import build_model
from accord.llm.retrying import RetryPolicy
from accord.llm.testing import FakeAnthropicServer, FakeOpenAIServer, Reply, ToolCall
from accord.llm.testing._http import ScriptedModelServer
from accord.llm.usage import usage_of
from tests.llm.conftest import make_provider

SERVERS = {
    "openai": (FakeOpenAIServer, ProviderKind.OPENAI_COMPATIBLE, "gpt-4o-mini"),
    "anthropic": (FakeAnthropicServer, ProviderKind.ANTHROPIC, "claude-haiku-4-5"),
}
RESULT = {
    "summary": "Drafted the plan.",
    "output": "# Plan\n1. Research\n2. Write",
    "insights": [{"title": "Scope", "content": "EU only."}],
    "questions": ["Which budget?"],
    "confidence": 0.7,
}


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[ScriptedModelServer]:
    server_class, _, _ = SERVERS[request.param]
    with server_class() as running:
        yield running


def step_agent(server: ScriptedModelServer, *, output_retries: int = 2) -> Agent:
    _, kind, model_name = SERVERS[server.vendor]
    provider = make_provider(kind, base_url=server.base_url, default_model=model_name)
    model = build_model(provider, api_key="test-key", retry=RetryPolicy(initial_delay=0.001))
    return Agent(
        model,
        output_type=StepResult,
        instructions="You are Ann, an analyst.",
        retries={"output": output_retries},
    )


def sent_text(server: ScriptedModelServer, index: int) -> str:
    return json.dumps(server.requests[index].body)


async def test_a_step_result_comes_back_after_a_tool_call(server: ScriptedModelServer) -> None:
    server.add(
        Reply.calling(ToolCall("share_knowledge", {"title": "Scope", "content": "EU only."})),
        Reply.output(RESULT),
    )
    agent = step_agent(server)
    shared: list[tuple[str, str]] = []

    @agent.tool_plain
    def share_knowledge(title: str, content: str) -> str:
        """Share something the team should know."""
        shared.append((title, content))
        return "Shared with the team."

    result = await agent.run("# Step: Plan\n\nWrite the plan.")

    assert shared == [("Scope", "EU only.")]
    assert result.output == StepResult.model_validate(RESULT)
    first, second = sent_text(server, 0), sent_text(server, 1)
    assert "share_knowledge" in first and "final_result" in first  # both tools offered
    assert "Write the plan." in first and "You are Ann" in first
    assert "Shared with the team." in second  # the tool's result went back to the model
    spent = usage_of(result.usage, model=agent.model)
    assert (spent.input_tokens, spent.output_tokens, spent.model_calls) == (20, 10, 2)
    assert spent.cost_usd > 0


async def test_malformed_tool_arguments_are_sent_back_and_the_retry_succeeds(
    server: ScriptedModelServer,
) -> None:
    server.add(Reply.output('{"summary": "half'), Reply.output(RESULT))

    result = await step_agent(server).run("Write the plan.")

    assert result.output.summary == "Drafted the plan."
    assert len(server.requests) == 2
    # The parse error went back to the model. (Anthropic's body cannot carry malformed tool
    # input unstreamed: its fake server sends the raw text as a field, which does not validate.)
    retry = sent_text(server, 1)
    assert "Invalid JSON" in retry or "Field required" in retry


async def test_output_that_breaks_the_schema_is_retried_with_the_validation_error(
    server: ScriptedModelServer,
) -> None:
    server.add(Reply.output({"summary": "", "output": "x", "confidence": 3}), Reply.output(RESULT))

    result = await step_agent(server).run("Write the plan.")

    assert result.output.output.startswith("# Plan")
    retry_prompt = sent_text(server, 1)
    assert "confidence" in retry_prompt and "less than or equal to 1" in retry_prompt
    assert "summary" in retry_prompt and "at least 1 character" in retry_prompt


async def test_output_that_never_validates_fails_clearly_past_the_bound(
    server: ScriptedModelServer,
) -> None:
    server.add(*[Reply.output({"summary": "no output field"})] * 3)

    with pytest.raises(Exception) as raised:
        await step_agent(server, output_retries=2).run("Write the plan.")

    failure = model_failure(raised.value)
    assert failure is not None
    assert "did not match the required schema" in failure.message
    assert "last error: output: Field required" in failure.message
    assert len(server.requests) == 3


async def test_a_streamed_run_gets_the_same_step_result(server: ScriptedModelServer) -> None:
    server.add(
        Reply.calling(ToolCall("share_knowledge", {"title": "Scope", "content": "EU only."})),
        Reply.output(RESULT),
    )
    agent = step_agent(server)

    @agent.tool_plain
    def share_knowledge(title: str, content: str) -> str:
        return "Shared."

    async with agent.run_stream("Write the plan.") as stream:
        output = await stream.get_output()

    assert output == StepResult.model_validate(RESULT)
    assert all(request.body.get("stream") for request in server.requests)


async def test_a_model_that_writes_nothing_is_told_apart_from_one_that_writes_wrong(
    server: ScriptedModelServer,
) -> None:
    server.add(*[Reply(text="")] * 3)  # a small local model that stops at once, every time

    with pytest.raises(Exception) as raised:
        await Agent(step_agent(server).model, output_type=str, retries={"output": 2}).run(
            "Write the plan."
        )

    failure = model_failure(raised.value)
    assert failure is not None
    assert failure.message.startswith("The model's answer was empty every time")
    assert "did not match the required schema" not in failure.message
