"""An Anthropic Messages API server for tests (`POST /v1/messages`).

    with FakeAnthropicServer([Fault.http_status(529), Reply.output({...})]) as server:
        provider = LlmProvider(..., kind=ProviderKind.ANTHROPIC, base_url=server.base_url)

Answers JSON, or server-sent events (`message_start` ... `message_stop`) when the request asks
for `"stream": true`, as pydantic-ai does behind the scenes for large `max_tokens`.
A `ToolCall` with string arguments is streamed as that raw JSON (malformed if the string is).
"""

import json
from collections.abc import Iterator
from itertools import count
from typing import Any, ClassVar

from accord.llm.testing._http import ScriptedModelServer, sse
from accord.llm.testing.script import Reply, ToolCall

_ids = count(1)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _input(call: ToolCall) -> dict[str, Any]:
    """Non-streamed tool input is a JSON object on the wire; a raw string is passed through
    as the value of `raw` (it cannot be malformed JSON inside a JSON body)."""
    return call.arguments if isinstance(call.arguments, dict) else {"raw": call.arguments}


class FakeAnthropicServer(ScriptedModelServer):
    api_path: ClassVar[str] = "/v1/messages"
    base_path: ClassVar[str] = ""
    vendor: ClassVar[str] = "anthropic"

    def reply_body(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(_ids)}",
                    "name": call.name,
                    "input": _input(call),
                }
            )
        return {
            "id": f"msg_{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "fake"),
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
        }

    def reply_events(self, reply: Reply, request: dict[str, Any]) -> Iterator[bytes]:
        message = self.reply_body(Reply(input_tokens=reply.input_tokens, output_tokens=0), request)
        message["content"], message["stop_reason"] = [], None
        yield sse({"type": "message_start", "message": message}, "message_start")
        index = 0
        if reply.text:
            yield _block_start(index, {"type": "text", "text": ""})
            yield _block_delta(index, {"type": "text_delta", "text": reply.text})
            yield _block_stop(index)
            index += 1
        for call in reply.tool_calls:
            block = {
                "type": "tool_use",
                "id": f"toolu_{next(_ids)}",
                "name": call.name,
                "input": {},
            }
            raw = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
            yield _block_start(index, block)
            yield _block_delta(index, {"type": "input_json_delta", "partial_json": raw})
            yield _block_stop(index)
            index += 1
        yield sse(
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": reply.output_tokens},
            },
            "message_delta",
        )
        yield sse({"type": "message_stop"}, "message_stop")

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse(
        {"type": "content_block_start", "index": index, "content_block": block},
        "content_block_start",
    )


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse(
        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
    )


def _block_stop(index: int) -> bytes:
    return sse({"type": "content_block_stop", "index": index}, "content_block_stop")
