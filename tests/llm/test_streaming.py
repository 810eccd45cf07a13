"""Watching a model write: under an observer, vendor models and the offline model stream,
the observer sees the text grow in coalesced pieces, and the answer is the one `request`
gives without an observer."""

import time

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.usage import RequestUsage

from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.domain.step_result import StepResult
from accord.llm import build_model
from accord.llm.offline import OfflineModel
from accord.llm.streaming import TextPiece, TextTap, observing
from accord.llm.testing import FakeAnthropicServer, FakeOpenAIServer, Fault, Reply
from accord.llm.usage_estimate import with_usage

from .conftest import make_provider

LONG = "The rollout goes region by region, each one watched for a day. " * 8


def tap(pieces: list[tuple[float, TextPiece]]) -> TextTap:
    started = time.monotonic()
    return TextTap(
        emit=lambda piece: pieces.append((time.monotonic() - started, piece)),
        output_tools=frozenset({"final_result"}),
    )


@pytest.mark.parametrize(
    ("kind", "server"),
    [
        (ProviderKind.OPENAI_COMPATIBLE, FakeOpenAIServer),
        (ProviderKind.ANTHROPIC, FakeAnthropicServer),
    ],
)
async def test_a_vendor_model_streams_its_answer_to_an_observer(kind, server) -> None:
    answer = {"summary": "Roll out slowly", "output": LONG}
    reply = Reply(tool_calls=Reply.output(answer).tool_calls, output_tokens=50)
    script = [reply, reply]
    with server(script) as fake:
        provider = make_provider(kind, base_url=fake.base_url)
        model = build_model(provider, api_key="test-key")
        pieces: list[tuple[float, TextPiece]] = []
        with observing(tap(pieces)):
            watched = await Agent(model, output_type=StepResult).run("Plan the rollout.")
        unwatched = await Agent(model, output_type=StepResult).run("Plan the rollout.")

    assert [r.body.get("stream", False) for r in fake.requests] == [True, False]
    assert watched.output == unwatched.output
    assert watched.usage.output_tokens == unwatched.usage.output_tokens == 50
    # The structured answer is shown as the text of its fields, in pieces that continue
    # each other, coalesced (the server sent 16 characters a chunk).
    text = "".join(p.text for _, p in pieces)
    assert text == f"Roll out slowly\n\n{LONG}"
    assert [p.offset for _, p in pieces] == [
        sum(len(p.text) for _, p in pieces[:i]) for i in range(len(pieces))
    ]
    assert len(pieces) < len(text) / 16


async def test_the_offline_model_writes_at_its_pace_and_answers_as_unobserved() -> None:
    model = OfflineModel(latency_seconds=0.6)
    pieces: list[tuple[float, TextPiece]] = []
    with observing(tap(pieces)):
        watched = await Agent(model, output_type=StepResult).run("Write the release notes.")
    unwatched = await Agent(model, output_type=StepResult).run("Write the release notes.")

    assert watched.output == unwatched.output
    assert watched.usage.output_tokens == unwatched.usage.output_tokens
    assert "".join(p.text for _, p in pieces).startswith(watched.output.summary + "\n\n")
    # Spread over its latency, coalesced to about ten pieces a second, not all at the end.
    times = [at for at, _ in pieces]
    assert len(pieces) >= 3
    assert times[-1] - times[0] >= 0.3


async def test_a_streamed_request_works_from_the_offline_model_directly() -> None:
    """A library user's `run_stream` on the offline model gets the answer in pieces."""
    model = OfflineModel(latency_seconds=0.2)
    async with Agent(model).run_stream("Say what you are.") as run:
        seen = [text async for text in run.stream_text(delta=True)]
    assert len(seen) > 1 and "".join(seen).startswith("[offline model]")


async def test_a_provider_set_not_to_stream_answers_in_one_piece_even_when_watched() -> None:
    with FakeOpenAIServer([Reply.output({"summary": "s", "output": "o"})]) as fake:
        provider = make_provider(
            ProviderKind.OPENAI_COMPATIBLE, base_url=fake.base_url, stream=False
        )
        pieces: list[tuple[float, TextPiece]] = []
        with observing(tap(pieces)):
            result = await Agent(build_model(provider, api_key=None), output_type=StepResult).run(
                "Go."
            )
    assert result.output.summary == "s"
    assert fake.requests[0].body.get("stream") is False and pieces == []


async def test_a_watched_request_that_takes_too_long_times_out_as_an_unwatched_one() -> None:
    with FakeOpenAIServer(
        [Fault.delay(5.0), Reply.output({"summary": "s", "output": "o"})]
    ) as fake:
        provider = make_provider(
            ProviderKind.OPENAI_COMPATIBLE, base_url=fake.base_url, timeoutSeconds=0.3
        )
        agent = Agent(build_model(provider, api_key=None), output_type=StepResult)
        started = time.monotonic()
        with pytest.raises(ModelFailure) as failure, observing(tap([])):
            await agent.run("Plan.")
    assert time.monotonic() - started < 3
    assert fake.requests[0].body["stream"] is True and len(fake.requests) == 1
    assert "timed out" in failure.value.message and "timeoutSeconds" in failure.value.message
    assert failure.value.details["estimatedUsage"]["outputTokens"] == 2048


async def test_tokens_a_server_does_not_report_are_estimated_streamed_or_not() -> None:
    # llama.cpp's OpenAI-compatible server sends no usage in a stream; counted as 0, a run on
    # it cost nothing and a token budget never bound.
    answer = {"summary": "Roll out slowly", "output": LONG}
    reply = Reply(tool_calls=Reply.output(answer).tool_calls, reports_usage=False)
    with FakeOpenAIServer([reply, reply]) as fake:
        provider = make_provider(ProviderKind.OPENAI_COMPATIBLE, base_url=fake.base_url)
        model = build_model(provider, api_key="test-key")
        with observing(tap([])):
            watched = await Agent(model, output_type=StepResult).run("Plan the rollout.")
        unwatched = await Agent(model, output_type=StepResult).run("Plan the rollout.")

    assert [r.body.get("stream", False) for r in fake.requests] == [True, False]
    for result in (watched, unwatched):
        usage = result.usage
        assert usage.input_tokens > 0
        assert len(LONG) // 4 <= usage.output_tokens <= len(LONG) // 2
        assert usage.details == {"accord_estimated": 1}


def test_an_empty_answer_without_usage_still_counts_the_prompt_read() -> None:
    sent = [ModelRequest(parts=[UserPromptPart("Plan the rollout. " * 20)])]
    empty = ModelResponse(parts=[], usage=RequestUsage(unmeasured_requests=1))
    usage = with_usage(sent, empty).usage
    assert (usage.input_tokens, usage.output_tokens) == (len("Plan the rollout. " * 20) // 4, 0)

    reported = ModelResponse(parts=[TextPart("ok")], usage=RequestUsage(input_tokens=7))
    assert with_usage(sent, reported) is reported
