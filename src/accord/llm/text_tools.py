"""Function tools for models that cannot call functions: a text protocol they can follow.

A model served without tool calling (a llama.cpp chat template without it, most small local
models) either rejects requests that carry tools or silently drops them. `TextToolsModel`
wraps such a model so the rest of Accord (pydantic-ai's agent loop, the collaboration tools,
durable recording) works unchanged:

- the request goes out without tools; instead the instructions describe each tool and ask
  for a fenced action block when the model wants one:

      ```action
      {"tool": "ask_question", "arguments": {"to": "Dev", "question": "..."}}
      ```

- the action blocks in the answer (read leniently: fenced or bare, broken JSON repaired)
  come back to pydantic-ai as ordinary tool calls; several blocks are several calls;
- earlier tool calls and their results are written into the conversation as text (the
  action block, then "Result of ask_question: ..."), since such servers do not accept tool
  messages either;
- with structured output asked for in the text (`native` or `prompted`), a final answer's
  JSON is read leniently (prose around it, fences, trailing commas, single quotes) and handed
  on as clean JSON, so that pydantic-ai's validation sees the object the model meant.
"""

import json
import re
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import json_repair
from pydantic_ai import RunContext
from pydantic_ai.messages import (
    InstructionPart,
    ModelMessage,
    ModelRequestPart,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import (
    CompletedStreamedResponse,
    ModelRequestParameters,
    StreamedResponse,
)
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from accord.llm.lenient import read_json_object

ACTION_FENCE = "action"
TOOLS_MARKER = "Action definitions (JSON): "
"""Precedes the machine-readable list of tools in the instructions (test servers read it)."""

_ACTION_BLOCK = re.compile(r"```\s*action\s*\n?(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE)
_ANY_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


def protocol_instructions(tools: list[ToolDefinition]) -> str:
    """How a model without tool calling uses `tools`: one line per tool, an example, and the
    definitions as JSON."""
    lines = [
        "## Team actions",
        "You cannot call functions, but you can take these actions. To take one, reply with "
        "an action block and nothing else, for example:",
        f'```{ACTION_FENCE}\n{{"tool": "{tools[0].name}", "arguments": '
        f"{json.dumps(_example_arguments(tools[0]))}}}\n```",
        "You then get the action's result and continue. Several action blocks in one reply "
        "are taken in order. When you need no more actions, give your final answer instead, "
        "with no action block.",
        "Actions:",
    ]
    for tool in tools:
        params = tool.parameters_json_schema.get("properties", {})
        required = set(tool.parameters_json_schema.get("required", []))
        signature = ", ".join(p if p in required else f"{p}?" for p in params)
        summary = (tool.description or "").strip().splitlines()
        lines.append(f"- {tool.name}({signature}): {summary[0] if summary else ''}")
    definitions = [
        {"name": t.name, "description": t.description, "parameters": t.parameters_json_schema}
        for t in tools
    ]
    lines.append(TOOLS_MARKER + json.dumps(definitions))
    return "\n".join(lines)


def read_actions(text: str, tool_names: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The actions asked for in `text`, in order: fenced `action` blocks, or else JSON objects
    (fenced or bare) naming one of `tool_names` as their `tool`."""
    blocks = [m.group(1) for m in _ACTION_BLOCK.finditer(text)]
    if not blocks:
        blocks = [m.group(1) for m in _ANY_FENCE.finditer(text)] or [text]
    actions = []
    for block in blocks:
        found = json_repair.repair_json(block, return_objects=True)
        for item in found if isinstance(found, list) else [found]:
            action = _action(item, tool_names)
            if action is not None:
                actions.append(action)
    return actions


def render_action(call: ToolCallPart) -> str:
    """A tool call as the action block the model would have written."""
    return (
        f"```{ACTION_FENCE}\n"
        + json.dumps({"tool": call.tool_name, "arguments": call.args_as_dict()})
        + "\n```"
    )


class TextToolsModel(WrapperModel):
    """See the module docstring. Wraps a vendor model; requests without tools pass through
    (with lenient JSON reading when structured output is asked for in the text)."""

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        tools = list(model_request_parameters.function_tools)
        params = _without_tools(model_request_parameters, tools)
        response = await self.wrapped.request(_as_text(messages), model_settings, params)
        return _read_response(response, tools, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """The whole answer as one event: the action blocks must be read from all of it."""
        response = await self.request(messages, model_settings, model_request_parameters)
        yield CompletedStreamedResponse(
            response, model_request_parameters=model_request_parameters, replay_events=True
        )


def _without_tools(params: ModelRequestParameters, tools: list[ToolDefinition]) -> Any:
    if not tools:
        return params
    parts = [*(params.instruction_parts or []), InstructionPart(protocol_instructions(tools))]
    return replace(params, function_tools=[], tool_visibility=None, instruction_parts=parts)


def _as_text(messages: list[ModelMessage]) -> list[ModelMessage]:
    """The conversation with tool calls and results written out as text."""
    rewritten: list[ModelMessage] = []
    for message in messages:
        if isinstance(message, ModelResponse):
            parts: list[ModelResponsePart] = [
                TextPart(render_action(p)) if isinstance(p, ToolCallPart) else p
                for p in message.parts
            ]
            rewritten.append(replace(message, parts=parts))
        else:
            request_parts: list[ModelRequestPart] = [
                _result_as_text(p) if isinstance(p, ToolReturnPart) else p for p in message.parts
            ]
            rewritten.append(replace(message, parts=request_parts))
    return rewritten


def _result_as_text(part: ToolReturnPart) -> UserPromptPart:
    content = part.model_response_str()
    if part.outcome == "retried":
        return UserPromptPart(f"Your {part.tool_name} action could not be taken: {content}")
    return UserPromptPart(f"Result of {part.tool_name}: {content}")


def _read_response(
    response: ModelResponse, tools: list[ToolDefinition], params: ModelRequestParameters
) -> ModelResponse:
    text = "\n".join(p.content for p in response.parts if isinstance(p, TextPart))
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    actions = read_actions(text, {t.name for t in tools}) if tools and not calls else []
    if actions:
        return replace(response, parts=[ToolCallPart(name, args) for name, args in actions])
    if calls or params.output_object is None:
        return response
    found = read_json_object(text)
    if found is None:
        return response
    return replace(response, parts=[TextPart(json.dumps(found))])


def _action(item: Any, tool_names: set[str]) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(item, dict):
        return None
    name = item.get("tool") or item.get("action") or item.get("name")
    if not isinstance(name, str) or name not in tool_names:
        return None
    arguments = item.get("arguments", item.get("args", item.get("parameters")))
    if arguments is None:
        arguments = {k: v for k, v in item.items() if k not in ("tool", "action", "name")}
    return (name, arguments) if isinstance(arguments, dict) else None


def _example_arguments(tool: ToolDefinition) -> dict[str, str]:
    properties = tool.parameters_json_schema.get("properties", {})
    required = tool.parameters_json_schema.get("required", list(properties))
    return {name: "..." for name in required}
