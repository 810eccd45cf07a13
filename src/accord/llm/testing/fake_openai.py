"""An OpenAI-compatible Chat Completions server for tests (`POST /v1/chat/completions`).

    script = [Fault.http_status(429, retry_after=0.01), Reply.output({...})]
    with FakeOpenAIServer(script) as server:
        provider = LlmProvider(..., kind=ProviderKind.OPENAI_COMPATIBLE, base_url=server.base_url)
        model = build_model(provider, api_key="test")

Answers JSON, or server-sent events when the request asks for `"stream": true`.
"""

import json
from collections.abc import Iterator
from itertools import count
from typing import Any, ClassVar

from accord.llm.testing._http import ScriptedModelServer, sse
from accord.llm.testing.script import Reply, ToolCall

_ids = count(1)


def _arguments(call: ToolCall) -> str:
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


class FakeOpenAIServer(ScriptedModelServer):
    api_path: ClassVar[str] = "/chat/completions"
    base_path: ClassVar[str] = "/v1"
    vendor: ClassVar[str] = "openai"

    def reply_body(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{next(_ids)}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": _arguments(call)},
                }
                for call in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
        } | ({"usage": _usage(reply)} if reply.reports_usage else {})

    def reply_events(self, reply: Reply, request: dict[str, Any]) -> Iterator[bytes]:
        base = {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": request.get("model", "fake"),
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return sse({**base, "choices": [choice]})

        yield chunk({"role": "assistant", "content": ""})
        if reply.text:
            for piece in _pieces(reply.text):
                yield chunk({"content": piece})
        for index, call in enumerate(reply.tool_calls):
            start = {
                "index": index,
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield chunk({"tool_calls": [start]})
            for piece in _pieces(_arguments(call)):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
        if reply.reports_usage:
            yield sse({**base, "choices": [], "usage": _usage(reply)})
        yield sse("[DONE]")

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        return {"error": {"message": message, "type": kind, "code": kind, "param": None}}


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def _pieces(text: str, size: int = 16) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]
