"""The offline model behind the fake OpenAI-compatible server: a whole agent run over HTTP."""

from pydantic_ai import Agent

from accord.domain.enums import ProviderKind
from accord.domain.step_result import ReviewVerdict, StepResult
from accord.llm.models import build_model
from accord.llm.retrying import RetryPolicy
from accord.llm.testing import FakeOpenAIServer, Fault, offline_responder
from tests.llm.conftest import make_provider
from tests.llm.test_offline import INSTRUCTIONS, STEP_PROMPT, ToolLog


async def test_an_agent_runs_with_tools_against_the_offline_responder() -> None:
    log = ToolLog()
    responder = offline_responder(seed=5, question_rate=1.0)
    with FakeOpenAIServer([Fault.http_status(503)], responder=responder) as server:
        provider = make_provider(ProviderKind.OPENAI_COMPATIBLE, base_url=server.base_url)
        model = build_model(provider, api_key=None, retry=RetryPolicy(initial_delay=0.001))
        agent = Agent(model, output_type=StepResult, instructions=INSTRUCTIONS, tools=log.tools())

        result = await agent.run(STEP_PROMPT)

    assert log.names()[0] == "search_knowledge"
    assert "share_knowledge" in log.names()
    assert dict(log.calls)["ask_question"]["to"] == "Bob"
    assert result.output.summary.startswith("[offline model]")
    assert "The scope is EU garden robots only." in result.output.output
    assert len(server.requests) == len(log.calls) + 2  # the 503, the tool turns, the answer
    assert result.usage.input_tokens > len(STEP_PROMPT) // 4


async def test_a_review_over_http_follows_the_offline_reviewer() -> None:
    with FakeOpenAIServer(responder=offline_responder(change_request_rate=1.0)) as server:
        provider = make_provider(ProviderKind.OPENAI_COMPATIBLE, base_url=server.base_url)
        agent = Agent(build_model(provider, api_key=None), output_type=ReviewVerdict)

        verdict = (
            await agent.run(
                "Review the step 'Plan'.\n\nValidation criteria:\n- names the owner\n\nResult:\n{}"
            )
        ).output

    assert verdict.verdict == "request_changes"
