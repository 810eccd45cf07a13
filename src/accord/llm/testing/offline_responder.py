"""The offline model behind a fake OpenAI-compatible server, for end-to-end runs over HTTP.

    with FakeOpenAIServer(responder=offline_responder(seed=1)) as server:
        ...  # a provider of kind openai_compatible with base_url=server.base_url

Every request is answered the way `OfflineModel` would answer it (tool calls first, then a
schema-valid final answer), so a whole workflow can run through the real OpenAI SDK and
pydantic-ai's OpenAI adapter, with faults still injectable through the server's script.
"""

import json
from collections.abc import Callable
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    ModelResponsePart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from accord.llm.offline import OfflineModel
from accord.llm.testing.script import Reply, ToolCall

OUTPUT_TOOL_PREFIX = "final_result"
"""pydantic-ai's name for the tool through which the model gives its structured answer."""


def offline_responder(
    *,
    seed: int = 0,
    change_request_rate: float = 0.0,
    question_rate: float = 1.0,
    feedback_rate: float = 0.5,
    delegate_rate: float = 0.0,
) -> Callable[[dict[str, Any]], Reply]:
    """A `responder` for `FakeOpenAIServer` that answers Chat Completions requests offline."""
    model = OfflineModel(
        seed=seed,
        change_request_rate=change_request_rate,
        question_rate=question_rate,
        feedback_rate=feedback_rate,
        delegate_rate=delegate_rate,
    )

    def respond(body: dict[str, Any]) -> Reply:
        messages, params = chat_request_to_conversation(body)
        return reply_of(model.answer(messages, params))

    return respond


def chat_request_to_conversation(
    body: dict[str, Any],
) -> tuple[list[ModelMessage], ModelRequestParameters]:
    """A Chat Completions request body as pydantic-ai messages and request parameters."""
    messages: list[ModelMessage] = []
    pending: list[ModelRequestPart] = []
    tool_names: dict[str, str] = {}
    for message in body.get("messages", []):
        role = message.get("role")
        if role == "assistant":
            if pending:
                messages.append(ModelRequest(parts=pending))
                pending = []
            messages.append(ModelResponse(parts=_assistant_parts(message, tool_names)))
        elif role in ("system", "developer"):
            pending.append(SystemPromptPart(_text(message.get("content"))))
        elif role == "user":
            pending.append(UserPromptPart(_text(message.get("content"))))
        elif role == "tool":
            call_id = message.get("tool_call_id", "")
            pending.append(
                ToolReturnPart(
                    tool_name=tool_names.get(call_id, "unknown"),
                    content=_text(message.get("content")),
                    tool_call_id=call_id,
                )
            )
    if pending:
        messages.append(ModelRequest(parts=pending))
    definitions = [
        ToolDefinition(
            name=tool["function"]["name"],
            parameters_json_schema=tool["function"].get("parameters") or {},
            description=tool["function"].get("description"),
        )
        for tool in body.get("tools", [])
        if tool.get("type") == "function"
    ]
    output_tools = [t for t in definitions if t.name.startswith(OUTPUT_TOOL_PREFIX)]
    params = ModelRequestParameters(
        function_tools=[t for t in definitions if t not in output_tools],
        output_tools=output_tools,
        output_mode="tool" if output_tools else "text",
        allow_text_output=not output_tools,
    )
    return messages, params


def _assistant_parts(
    message: dict[str, Any], tool_names: dict[str, str]
) -> list[ModelResponsePart]:
    parts: list[ModelResponsePart] = []
    if message.get("content"):
        parts.append(TextPart(_text(message["content"])))
    for call in message.get("tool_calls") or []:
        tool_names[call["id"]] = call["function"]["name"]
        parts.append(
            ToolCallPart(call["function"]["name"], call["function"]["arguments"], call["id"])
        )
    return parts


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(item.get("text", "") for item in content if isinstance(item, dict))
    return "" if content is None else str(content)


def reply_of(response: ModelResponse) -> Reply:
    """A pydantic-ai response as the fake server's `Reply`."""
    text = "\n".join(p.content for p in response.parts if isinstance(p, TextPart)) or None
    calls = tuple(
        ToolCall(
            p.tool_name,
            # a typed tool part (e.g. tool search) holds a TypedDict: copied as dict[str, Any]
            dict(p.args) if isinstance(p.args, dict) else json.loads(p.args or "{}"),
        )
        for p in response.parts
        if isinstance(p, ToolCallPart)
    )
    return Reply(
        text=text,
        tool_calls=calls,
        input_tokens=response.usage.input_tokens,
        output_tokens=response.usage.output_tokens,
    )
