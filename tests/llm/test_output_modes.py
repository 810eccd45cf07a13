"""Output modes against the fake OpenAI-compatible server scripted as weak models, through
the real OpenAI SDK: what is sent (tools or not, an output limit), how a refusing server is
diagnosed, how JSON a weak model writes is read, how a timed-out request ends."""

import json
import time

import pytest
from pydantic_ai import Agent, Tool

from accord.domain.enums import ProviderKind
from accord.domain.errors import ModelFailure
from accord.domain.step_result import ReviewVerdict, StepResult
from accord.llm import OfflineModel, model_for_mode, output_spec, text_mode_hint
from accord.llm.lenient import TextNotUsable, derive_from_text, read_json_object
from accord.llm.models import build_model
from accord.llm.retrying import RetryPolicy
from accord.llm.testing import FakeOpenAIServer, Fault, Reply, weak_responder
from accord.llm.testing.behaviours import REJECTION
from accord.llm.text_tools import read_actions
from tests.llm.conftest import make_provider

FAST = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.01)
ANSWER = {"summary": "Planned.", "output": "# Plan\nShip it."}


def model_on(server: FakeOpenAIServer, **settings: object):  # noqa: ANN201 (a pydantic-ai Model)
    provider = make_provider(
        ProviderKind.OPENAI_COMPATIBLE, base_url=server.base_url, default_model="weak", **settings
    )
    return build_model(provider, api_key=None, retry=FAST)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Sure! Here it is:\n```json\n{"a": 1, "b": [1, 2,],}\n```\nHope it helps.', {"a": 1}),
        ("{'a': 1, 'b': 'two'}", {"a": 1, "b": "two"}),
        ('My answer is {"a": 1} as asked.', {"a": 1}),
        # Valid but for the trailing comma, with an odd number of escaped quotes in a string:
        # a repair guessing at quotes would cut the string into made-up keys.
        (
            '```json\n{"summary": "it holds, so for \\"Maya: keep \\"limits\\" in \'it\': '
            'it\u2026", "output": "# Done", "tags": ["a",],\n}\n```',
            {
                "summary": 'it holds, so for "Maya: keep "limits" in \'it\': it\u2026',
                "output": "# Done",
            },
        ),
    ],
    ids=["fenced-trailing-commas", "single-quotes", "prose-around", "escaped-quotes"],
)
def test_json_a_weak_model_writes_is_read(text: str, expected: dict[str, object]) -> None:
    found = read_json_object(text)
    assert found is not None
    assert {k: found[k] for k in expected} == expected


def test_plain_text_becomes_the_deliverable_with_a_summary_from_it() -> None:
    text = "Ship the cache first. It halves latency.\n\n## Steps\n- measure\n- ship"
    result = derive_from_text(StepResult, text)
    assert result.summary == "Ship the cache first."
    assert result.output == text


def test_a_verdict_in_plain_text_is_read_and_a_text_that_names_none_is_refused() -> None:
    verdict = derive_from_text(ReviewVerdict, "I request changes: the tests are missing.")
    assert (verdict.verdict, verdict.feedback) == (
        "request_changes",
        "I request changes: the tests are missing.",
    )
    with pytest.raises(TextNotUsable, match="verdict"):
        derive_from_text(ReviewVerdict, "Looks interesting.")


def test_action_blocks_are_read_leniently_and_only_for_offered_tools() -> None:
    text = (
        "I'll ask first.\n```action\n{'tool': 'ask_question', 'arguments': "
        "{'to': 'Dev', 'question': 'Which port?',}}\n```\n"
        '```action\n{"tool": "rm_rf", "arguments": {}}\n```'
    )
    assert read_actions(text, {"ask_question"}) == [
        ("ask_question", {"to": "Dev", "question": "Which port?"})
    ]


async def test_every_request_carries_an_output_token_limit() -> None:
    with FakeOpenAIServer([Reply.output(ANSWER), Reply.output(ANSWER)]) as server:
        await Agent(model_on(server), output_type=StepResult).run("Plan.")
        await Agent(model_on(server, maxTokens=300), output_type=StepResult).run("Plan.")
    assert [r.body["max_tokens"] for r in server.requests] == [2048, 300]


async def test_a_server_that_refuses_tools_is_diagnosed_once_not_retried_for_ever() -> None:
    with FakeOpenAIServer(responder=weak_responder("rejects_tools")) as server:
        agent = Agent(model_on(server), output_type=StepResult)
        with pytest.raises(ModelFailure) as failure:
            await agent.run("Plan.")
    assert "the server rejects requests with tools: try outputMode prompted" in str(failure.value)
    assert REJECTION in str(failure.value) or "HTTP 500" in str(failure.value)
    assert failure.value.details["rejected"] and not failure.value.details["transient"]
    assert len(server.requests) == 1 + FAST.max_retries  # one call's retries, then diagnosed


async def test_a_500_that_says_the_request_is_invalid_is_diagnosed_at_once() -> None:
    # llama-cpp-python's server answers a `json_schema` response format it does not know so.
    invalid = (
        "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
        "'type'), 'msg': \"Input should be 'text' or 'json_object'\"}"
    )

    def ask_question(to: str, question: str) -> str:
        """Ask a teammate a question."""
        return "no idea"

    with FakeOpenAIServer([Fault.http_status(500, message=invalid)]) as server:
        # With collaboration tools offered too: the error names the response format, so the
        # diagnosis does (it blamed the tools).
        agent = Agent(
            model_on(server),
            output_type=output_spec("native", StepResult),
            tools=[Tool(ask_question)],
        )
        with pytest.raises(ModelFailure) as failure:
            await agent.run("Plan.")
    assert len(server.requests) == 1  # not sent again: it would fail the same way
    assert "the server rejects requests for JSON-schema output: try outputMode prompted" in str(
        failure.value
    )
    assert failure.value.details["rejected"]


async def test_prompted_mode_sends_no_tools_and_tools_go_through_the_text_protocol() -> None:
    asked: list[tuple[str, str]] = []

    def ask_question(to: str, question: str) -> str:
        """Ask a teammate a question."""
        asked.append((to, question))
        return "Use port 8080."

    script = [
        Reply(
            text='Let me check.\n```action\n{"tool": "ask_question", "arguments": '
            '{"to": "Dev", "question": "Which port?"}}\n```'
        ),
        Reply(text='Here:\n```json\n{"summary": "Planned.", "output": "Port 8080.",}\n```'),
    ]
    with FakeOpenAIServer(script) as server:
        model = model_for_mode("prompted", model_on(server))
        agent = Agent(
            model, output_type=output_spec("prompted", StepResult), tools=[Tool(ask_question)]
        )
        result = await agent.run("Plan the deployment.")
    assert asked == [("Dev", "Which port?")]
    assert result.output.output == "Port 8080."
    assert all("tools" not in r.body for r in server.requests)
    first, second = (json.dumps(r.body) for r in server.requests)
    assert "ask_question(to, question)" in first and "JSON schema" in first
    assert "Result of ask_question: Use port 8080." in second


async def test_a_timed_out_request_is_cancelled_on_the_connection_not_retried() -> None:
    with FakeOpenAIServer([Fault.delay(5.0), Reply.output(ANSWER)]) as server:
        agent = Agent(model_on(server, timeoutSeconds=0.3), output_type=StepResult)
        started = time.monotonic()
        with pytest.raises(ModelFailure) as failure:
            await agent.run("Plan.")
        assert time.monotonic() - started < 3
        deadline = time.monotonic() + 3
        while server.disconnects == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.disconnects == 1  # the server saw the client close the connection
    assert len(server.requests) == 1 and server.remaining == 1  # never sent again
    estimate = failure.value.details["estimatedUsage"]
    assert estimate["inputTokens"] > 0 and estimate["outputTokens"] == 2048
    assert "timed out" in failure.value.message and "timeoutSeconds" in failure.value.message


@pytest.mark.parametrize("mode", ["tool", "native", "prompted", "text"])
async def test_the_offline_model_answers_in_every_mode(mode: str) -> None:
    model = model_for_mode(mode, OfflineModel(seed=3))  # type: ignore[arg-type]
    result = await Agent(model, output_type=output_spec(mode, StepResult)).run(  # type: ignore[arg-type]
        "# Step: Plan the release\n\n## Expected output\nA dated plan."
    )
    assert result.output.summary and result.output.output
    review = Agent(
        model,
        output_type=output_spec(mode, ReviewVerdict),  # type: ignore[arg-type]
        instructions=text_mode_hint(ReviewVerdict) if mode == "text" else None,
    )
    verdict = await review.run("Review Ada's result for the step 'Plan'. Result: a plan.")
    assert verdict.output.verdict in ("approve", "request_changes")
