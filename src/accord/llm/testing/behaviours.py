"""The fake OpenAI-compatible server scripted as a weak or a strong model.

    with FakeOpenAIServer(responder=weak_responder("rejects_tools")) as server: ...
    with FakeOpenAIServer(responder=strong_responder(question_rate=1.0)) as server: ...

Both think like the offline model (what to ask, share or answer comes from it); what
differs is how they speak, as real models do:

- a WEAK model never calls a function and never honours a JSON schema on the wire:
  - `rejects_tools`: HTTP 500 to every request that carries tools, the same message each
    time (a llama.cpp server whose chat template has no tool calling);
  - `drops_tools`: tools and `response_format` are ignored (a plain chat template): it writes
    prose, or, when the instructions show a JSON schema, JSON wrapped in prose and a Markdown
    fence, with a trailing comma;
  - `prose`: prose only, whatever it is asked; where the instructions ask it to say which of
    a few options it chooses, it names one.
  All three follow the text protocol for tools (`accord.llm.text_tools`): shown the team
  actions in the instructions, they write action blocks.
- a STRONG model calls tools natively, and all the calls it plans at once (parallel tool
  calls in one response).
"""

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

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
from pydantic_ai.output import OutputObjectDefinition
from pydantic_ai.tools import ToolDefinition

from accord.llm.offline import OfflineModel
from accord.llm.output_modes import choices_asked
from accord.llm.testing.offline_responder import chat_request_to_conversation, reply_of
from accord.llm.testing.script import Fault, Reply, ScriptEntry
from accord.llm.text_tools import TOOLS_MARKER, read_actions, render_action

WeakKind = Literal["rejects_tools", "drops_tools", "prose"]
REJECTION = "tools are not supported by this server's chat template"
"""What a `rejects_tools` server says, every time."""

_SCHEMA_INTRO = re.compile(r"JSON schema[^\n]*:\s*\n", re.IGNORECASE)
_RESULT = re.compile(r"^Result of (\w+): (.*)$", re.DOTALL)


def weak_responder(
    kind: WeakKind = "drops_tools",
    *,
    seed: int = 0,
    question_rate: float = 0.5,
    feedback_rate: float = 0.25,
    change_request_rate: float = 0.25,
) -> Callable[[dict[str, Any]], ScriptEntry]:
    """A `responder` for `FakeOpenAIServer` that answers as a weak model of `kind`."""
    model = OfflineModel(
        seed=seed,
        question_rate=question_rate,
        feedback_rate=feedback_rate,
        change_request_rate=change_request_rate,
    )

    def respond(body: dict[str, Any]) -> ScriptEntry:
        if kind == "rejects_tools" and body.get("tools"):
            return Fault.http_status(500, message=REJECTION)
        messages, tools, system = _text_conversation(body)
        schema = None if kind == "prose" else _schema_in(system)
        params = ModelRequestParameters(
            function_tools=tools,
            output_mode="prompted" if schema else "text",
            output_object=OutputObjectDefinition(json_schema=schema) if schema else None,
            allow_text_output=True,
        )
        answer = model.answer(messages, params)
        calls = [p for p in answer.parts if isinstance(p, ToolCallPart)]
        if calls:
            text = "I will take an action first.\n" + "\n".join(render_action(c) for c in calls)
        elif schema is not None:
            text = _sloppy_json(_text_of(answer))
        else:
            text = _choice_sentence(system) + _text_of(answer)
        return Reply(
            text=text,
            input_tokens=answer.usage.input_tokens,
            output_tokens=answer.usage.output_tokens,
        )

    return respond


def strong_responder(
    *,
    seed: int = 0,
    question_rate: float = 1.0,
    feedback_rate: float = 1.0,
    delegate_rate: float = 0.0,
    change_request_rate: float = 0.25,
) -> Callable[[dict[str, Any]], ScriptEntry]:
    """A `responder` for `FakeOpenAIServer` that answers as a strong model: native tool
    calls, every call it plans in one response."""
    model = OfflineModel(
        seed=seed,
        question_rate=question_rate,
        feedback_rate=feedback_rate,
        delegate_rate=delegate_rate,
        change_request_rate=change_request_rate,
    )

    def respond(body: dict[str, Any]) -> ScriptEntry:
        messages, params = chat_request_to_conversation(body)
        answer = model.answer(messages, params)
        planned: list[ToolCallPart] = []
        offered = {t.name for t in params.function_tools}
        # Ask the planner again as if each call had been made, to gather all it means to do.
        while (call := _function_call(answer, offered)) is not None:
            planned.append(call)
            if call.tool_name in ("ask_question", "delegate_task"):
                break  # what comes next depends on the answer
            messages = [
                *messages,
                ModelResponse(parts=[call]),
                ModelRequest(parts=[ToolReturnPart(call.tool_name, "ok", call.tool_call_id)]),
            ]
            answer = model.answer(messages, params)
        if planned:
            answer = replace(answer, parts=planned)
        return reply_of(answer)

    return respond


def _function_call(answer: ModelResponse, offered: set[str]) -> ToolCallPart | None:
    return next(
        (p for p in answer.parts if isinstance(p, ToolCallPart) and p.tool_name in offered),
        None,
    )


def _text_conversation(
    body: dict[str, Any],
) -> tuple[list[ModelMessage], list[ToolDefinition], str]:
    """The conversation as a model without tools reads it: the team actions described in the
    instructions, its own action blocks and their results in plain text, read back as tool
    calls and results so that the offline planner knows what it has done."""
    stripped = {k: v for k, v in body.items() if k not in ("tools", "response_format")}
    messages, _ = chat_request_to_conversation(stripped)
    system = "\n".join(
        str(p.content)
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, SystemPromptPart)
    )
    tools = _tools_in(system)
    names = {t.name for t in tools}
    rewritten: list[ModelMessage] = []
    pending: dict[str, str] = {}
    for message in messages:
        if isinstance(message, ModelResponse):
            parts: list[ModelResponsePart] = []
            for part in message.parts:
                actions = read_actions(part.content, names) if isinstance(part, TextPart) else []
                for number, (name, args) in enumerate(actions):
                    call = ToolCallPart(name, args, tool_call_id=f"text-{len(rewritten)}-{number}")
                    pending[name] = call.tool_call_id
                    parts.append(call)
                if not actions:
                    parts.append(part)
            rewritten.append(replace(message, parts=parts))
        else:
            request_parts: list[ModelRequestPart] = []
            for rpart in message.parts:
                result = (
                    _RESULT.match(rpart.content)
                    if isinstance(rpart, UserPromptPart) and isinstance(rpart.content, str)
                    else None
                )
                if result and result.group(1) in pending:
                    name = result.group(1)
                    request_parts.append(ToolReturnPart(name, result.group(2), pending[name]))
                else:
                    request_parts.append(rpart)
            rewritten.append(replace(message, parts=request_parts))
    return rewritten, tools, system


def _tools_in(system: str) -> list[ToolDefinition]:
    start = system.find(TOOLS_MARKER)
    if start < 0:
        return []
    found, _ = json.JSONDecoder().raw_decode(system[start + len(TOOLS_MARKER) :])
    return [
        ToolDefinition(
            name=t["name"], description=t.get("description"), parameters_json_schema=t["parameters"]
        )
        for t in found
    ]


def _schema_in(system: str) -> dict[str, Any] | None:
    """The JSON schema the instructions ask the answer to follow, if they show one."""
    match = _SCHEMA_INTRO.search(system)
    if match is None:
        return None
    try:
        schema, _ = json.JSONDecoder().raw_decode(system[match.end() :].lstrip())
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) else None


def _text_of(answer: ModelResponse) -> str:
    return "\n".join(p.content for p in answer.parts if isinstance(p, TextPart))


def _sloppy_json(text: str) -> str:
    """Valid JSON as a small model writes it: a sentence before, a fence, a trailing comma."""
    body = text.rstrip()
    if body.endswith("}"):
        body = body[:-1].rstrip() + ",\n}"
    return f"Sure! Here is my answer:\n\n```json\n{body}\n```\n\nLet me know if you need more."


def _choice_sentence(system: str) -> str:
    """Where the instructions ask which of some options it chooses, the first option named."""
    sentences = [f"My {what}: {options[0]}." for what, options in choices_asked(system)]
    return " ".join(sentences) + ("\n\n" if sentences else "")
