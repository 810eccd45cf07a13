"""Tokens of a request that never answered (it timed out), estimated so they are counted.

A server that was cut off still read the prompt and generated for as long as it ran: not
counting that is how a run that cost 9,600 tokens reported 6,600. The input is estimated from
the text sent (about four characters a token, as for English), the output from the time spent
at the speed of the model's last answer, capped by the request's output token limit (the cap
itself when the speed is not known yet).
"""

import json

from pydantic_ai.messages import ModelMessage

CHARS_PER_TOKEN = 4


def estimate_tokens(
    messages: list[ModelMessage], *, elapsed: float, max_tokens: int, speed: float | None
) -> tuple[int, int]:
    """(input tokens, output tokens) a timed-out request probably cost."""
    sent = sum(
        len(getattr(message, "instructions", None) or "")
        + sum(len(_text(part)) for part in message.parts)
        for message in messages
    )
    input_tokens = max(1, sent // CHARS_PER_TOKEN)
    if speed is not None:
        generated = int(speed * elapsed)
        output_tokens = min(generated, max_tokens) if max_tokens else generated
    else:
        output_tokens = max_tokens
    return input_tokens, output_tokens


def _text(part: object) -> str:
    content = getattr(part, "content", None)
    if content is None:
        content = getattr(part, "args", None)
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content, default=str)
