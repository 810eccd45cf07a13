"""Tokens a server did not report, estimated so they are counted.

- A request that never answered (it timed out): a server that was cut off still read the
  prompt and generated for as long as it ran; not counting that is how a run that cost 9,600
  tokens reported 6,600. The output is estimated from the time spent at the speed of the
  model's last answer, capped by the request's output token limit (the cap itself when the
  speed is not known yet).
- An answer without usage: llama.cpp's OpenAI-compatible server (llama-cpp-python) sends none
  in a stream, so every run on it counted 0 tokens and a token budget never bound. The output
  is estimated from the answer's text.

Text is counted at about four characters a token, as for English.
"""

import json
from dataclasses import replace

from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.usage import RequestUsage

CHARS_PER_TOKEN = 4
ESTIMATED = "accord_estimated"
"""Set to 1 in the usage `details` of an answer whose tokens were estimated."""


def estimate_tokens(
    messages: list[ModelMessage], *, elapsed: float, max_tokens: int, speed: float | None
) -> tuple[int, int]:
    """(input tokens, output tokens) a timed-out request probably cost."""
    input_tokens = _sent_tokens(messages)
    if speed is not None:
        generated = int(speed * elapsed)
        output_tokens = min(generated, max_tokens) if max_tokens else generated
    else:
        output_tokens = max_tokens
    return input_tokens, output_tokens


def with_usage(messages: list[ModelMessage], response: ModelResponse) -> ModelResponse:
    """`response`, its tokens estimated when the server reported none at all (an empty
    answer too: the server still read the prompt)."""
    usage = response.usage
    if not usage.unmeasured_requests and (usage.input_tokens or usage.output_tokens):
        return response
    written = sum(len(_text(part)) for part in response.parts)
    estimate = RequestUsage(
        input_tokens=_sent_tokens(messages),
        output_tokens=-(-written // CHARS_PER_TOKEN),  # rounded up: a word is a token
        details={ESTIMATED: 1},
    )
    return replace(response, usage=estimate)


def _sent_tokens(messages: list[ModelMessage]) -> int:
    sent = sum(
        len(getattr(message, "instructions", None) or "")
        + sum(len(_text(part)) for part in message.parts)
        for message in messages
    )
    return max(1, sent // CHARS_PER_TOKEN)


def _text(part: object) -> str:
    content = getattr(part, "content", None)
    if content is None:
        content = getattr(part, "args", None)
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content, default=str)
