"""Provider faults against real local HTTP servers: retried with backoff, then a clear failure.

Every test runs against both fake vendor servers, through the real OpenAI and Anthropic SDK
clients that `build_model` configures.
"""

import time
from collections.abc import Iterator

import pytest
from pydantic_ai import Agent

from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.domain.step_result import StepResult
from accord.llm.models import build_model
from accord.llm.retrying import RetryPolicy
from accord.llm.testing import FakeAnthropicServer, FakeOpenAIServer, Fault, Reply
from accord.llm.testing._http import ScriptedModelServer
from tests.llm.conftest import make_provider

FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01)
SHORT_TIMEOUT = 0.3
"""Seconds; a `Fault.delay` lasts longer, so the attempt times out."""
ANSWER = Reply.output({"summary": "Done.", "output": "# Report\nAll good."})
SERVERS = {
    "openai": (FakeOpenAIServer, ProviderKind.OPENAI_COMPATIBLE, "gpt-4o-mini"),
    "anthropic": (FakeAnthropicServer, ProviderKind.ANTHROPIC, "claude-haiku-4-5"),
}


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[ScriptedModelServer]:
    server_class, _, _ = SERVERS[request.param]
    with server_class() as running:
        yield running


def agent_for(
    server: ScriptedModelServer, policy: RetryPolicy = FAST, *, timeout: float = 10.0
) -> Agent:
    """An agent on `server`'s vendor. The timeout is generous unless a test is about timeouts:
    on a busy machine a short one would turn other faults into timeouts."""
    _, kind, model_name = SERVERS[server.vendor]
    provider = make_provider(
        kind, base_url=server.base_url, default_model=model_name, timeoutSeconds=timeout
    )
    model = build_model(provider, api_key="test-key", retry=policy)
    return Agent(model, output_type=StepResult)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.http_status(429, retry_after=0.01),
        Fault.http_status(500),
        Fault.http_status(503),
        Fault.http_status(529),
        Fault.dropped_connection(),
        Fault.malformed_json(),
    ],
    ids=["429", "500", "503", "529-overloaded", "dropped", "malformed-json"],
)
async def test_a_transient_fault_is_retried_and_the_call_succeeds(
    server: ScriptedModelServer, fault: Fault
) -> None:
    server.add(fault, fault, ANSWER)

    result = await agent_for(server).run("Write the report.")

    assert result.output.output == "# Report\nAll good."
    assert server.received(3) == 3


async def test_retry_after_is_honoured(server: ScriptedModelServer) -> None:
    server.add(Fault.http_status(429, retry_after=0.3), ANSWER)
    started = time.monotonic()

    await agent_for(server).run("Write the report.")

    assert time.monotonic() - started >= 0.3
    assert server.received(2) == 2


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.http_status(503), "unavailable or overloaded (HTTP 503)"),
        (Fault.http_status(429, retry_after=0.01), "rate limited (HTTP 429)"),
        (Fault.dropped_connection(), "connection failed or was dropped"),
        (Fault.malformed_json(), "could not be used"),
    ],
    ids=["503", "429", "dropped", "malformed-json"],
)
async def test_past_the_retry_bound_the_call_fails_with_a_clear_message(
    server: ScriptedModelServer, fault: Fault, words: str
) -> None:
    server.add(fault, fault, fault, ANSWER)

    with pytest.raises(ModelFailure) as failure:
        await agent_for(server).run("Write the report.")

    assert words in failure.value.message
    assert "after 3 attempts" in failure.value.message
    assert "Test provider" in failure.value.message
    assert server.received(3) == 3
    assert server.remaining == 1


async def test_a_retry_after_beyond_the_patience_limit_fails_at_once(
    server: ScriptedModelServer,
) -> None:
    server.add(Fault.http_status(429, retry_after=30), ANSWER)
    patient_for_a_second = RetryPolicy(max_retries=3, initial_delay=0.001, max_retry_after=1.0)

    with pytest.raises(ModelFailure, match="rate limited.*asked to wait 30s"):
        await agent_for(server, patient_for_a_second).run("Write the report.")

    assert server.received(1) == 1


@pytest.mark.parametrize(
    ("status", "words"),
    [(400, "rejected the request"), (401, "rejected the API key"), (404, "not found")],
)
async def test_a_rejected_request_is_not_retried(
    server: ScriptedModelServer, status: int, words: str
) -> None:
    server.add(Fault.http_status(status), ANSWER)

    with pytest.raises(ModelFailure, match=words):
        await agent_for(server).run("Write the report.")

    assert server.received(1) == 1


async def test_the_retry_policy_comes_from_the_provider_settings(
    server: ScriptedModelServer,
) -> None:
    server.add(*[Fault.http_status(503)] * 5, ANSWER, *[Fault.http_status(503)] * 6)
    _, kind, model_name = SERVERS[server.vendor]
    provider = make_provider(
        kind,
        base_url=server.base_url,
        default_model=model_name,
        maxRetries=5,
        retryInitialDelaySeconds=0.001,
        retryMaxDelaySeconds=0.002,
    )
    agent = Agent(build_model(provider, api_key="test-key"), output_type=StepResult)

    result = await agent.run("Write the report.")
    with pytest.raises(ModelFailure, match="after 6 attempts"):
        await agent.run("Write the report again.")

    assert result.output.summary == "Done."
    assert server.received(12) == 12


async def test_a_stream_that_fails_to_open_is_retried(server: ScriptedModelServer) -> None:
    server.add(Fault.http_status(503), Fault.http_status(429, retry_after=0.01), ANSWER)

    async with agent_for(server).run_stream("Write the report.") as stream:
        output = await stream.get_output()

    assert output.summary == "Done."
    assert [request.body.get("stream") for request in server.requests] == [True] * 3


async def test_a_stream_dropped_midway_fails_clearly_and_is_not_replayed(
    server: ScriptedModelServer,
) -> None:
    server.add(Fault.dropped_connection(), ANSWER)

    with pytest.raises(ModelFailure, match="connection failed or was dropped"):
        async with agent_for(server).run_stream("Write the report.") as stream:
            await stream.get_output()

    assert server.received(1) == 1
