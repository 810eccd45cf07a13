"""The built-in offline model: a real pydantic-ai `Model` that needs no network.

It exists so that demos, tests and benchmarks run the very code paths real models run
(the same `Agent`, output tools, collaboration tools, reviews, votes, usage and cost) on any
machine, with no key. It behaves like a diligent, predictable teammate:

- deterministic: the same seed and the same request give the same answer; another seed,
  another answer;
- it reads what it is given (see `offline_answers` and `offline_reading`) and uses the
  function tools it is offered the way a real model would, one call per turn, before
  answering, each when the content calls for it: `search_knowledge` first,
  `validate_knowledge` on a teammate's entry its own material corroborates, `ask_question`
  to the teammate who can fill the step's first gap (at `question_rate`), `share_knowledge`
  (the one finding later steps need, typed by its content), `give_feedback` to the author of
  an earlier result that left an open point (at `feedback_rate`), `delegate_task` when the
  instructions ask for sub-tasks to be handed out (and at `delegate_rate` otherwise: each
  delegation starts a child execution). Then the agent's own tools (MCP servers, toolkits:
  see `offline_tools`): it lists and reads what the task names and writes its report into
  the workspace. Tools it does not know are never called;
- its final answer is valid for whatever output the request asks for: a step result whose
  deliverable lists findings, decisions and open points drawn from its inputs, a review that
  sends back work leaving a validation criterion open (and, at `change_request_rate`, some
  that does not), a vote that weighs the evidence, a coordinator's choice from the roster,
  an answer from the answerer's own work, or free text;
- it says what it is: model name `accord-offline`, and `[offline model]` in what it writes;
- it reports token usage (text length / 4), so budgets and metering work as with a real model;
- `latency_seconds` makes each request take at least that long, like a slow network; streamed
  (`request_stream`, or `request` under an observer: see `accord.llm.streaming`), the answer
  comes a few words at a time over that time, as a real model writes.
"""

import asyncio
import hashlib
import json
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.messages import (
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import (
    CompletedStreamedResponse,
    Model,
    ModelRequestParameters,
    StreamedResponse,
)
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

from accord.domain.agent import OFFLINE_MODEL_NAME
from accord.llm.offline_answers import OFFLINE_TAG, Writer
from accord.llm.offline_brief import Brief, read_brief
from accord.llm.offline_tools import next_tool_call, own_tool_names, tool_findings
from accord.llm.output_modes import choices_asked
from accord.llm.streaming import observed, observed_request

_SYSTEM = "accord-offline"
STREAM_CHUNK_CHARS = 24
"""About five words: how much of its answer the offline model writes at a time when streamed."""
STREAM_TICK_SECONDS = 0.05


class OfflineModel(Model):
    """See the module docstring. Build it with `build_model` from an offline provider, or
    directly: `OfflineModel(seed=7, latency_seconds=0.2)`."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_seconds: float = 0.0,
        change_request_rate: float = 0.0,
        question_rate: float = 1.0,
        feedback_rate: float = 0.5,
        delegate_rate: float = 0.0,
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(
            settings=settings,
            profile=ModelProfile(
                supports_json_schema_output=True, supports_json_object_output=True
            ),
        )
        self.seed = seed
        self.latency_seconds = latency_seconds
        self.change_request_rate = change_request_rate
        self.question_rate = question_rate
        self.feedback_rate = feedback_rate
        self.delegate_rate = delegate_rate

    @property
    def model_name(self) -> str:
        return OFFLINE_MODEL_NAME

    @property
    def system(self) -> str:
        return _SYSTEM

    @property
    def provider(self) -> None:
        return None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        if observed():  # someone watches it write: stream it (see `accord.llm.streaming`)
            return await observed_request(self, messages, model_settings, model_request_parameters)
        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)
        return self.answer(messages, params)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        yield PacedStreamedResponse(
            self.answer(messages, params),
            model_request_parameters=params,
            seconds=self.latency_seconds,
        )

    # -- deciding what to say ---------------------------------------------------------------

    def answer(self, messages: list[ModelMessage], params: ModelRequestParameters) -> ModelResponse:
        """The response to a conversation, at once (no latency). `request` adds the latency;
        adapters such as the fake server's offline responder call this directly."""
        brief = _brief_of(messages, params)
        called = _tools_called(messages)
        own_call = next_tool_call(
            brief, params.function_tools, messages, self._writer(brief, messages).complete
        )
        writer = self._writer(brief, messages, tools_done=own_call is None)
        plan = _tool_plan(
            self._rng(brief.text, "tools"),
            writer,
            params.function_tools,
            ToolRates(self.question_rate, self.feedback_rate, self.delegate_rate),
        )
        pending = [(tool, args) for tool, args in plan if tool.name not in called]
        parts: list[ModelResponsePart]
        if pending:
            tool, args = pending[0]
            parts = [ToolCallPart(tool.name, writer.complete(args, tool.parameters_json_schema))]
        elif own_call is not None:
            parts = [own_call]
        else:
            parts = [self._final_answer(brief, messages, params)]
        response = ModelResponse(parts=parts, model_name=OFFLINE_MODEL_NAME, provider_name=_SYSTEM)
        response.usage = RequestUsage(
            input_tokens=_tokens(_message_text(messages) + brief.text),
            output_tokens=_tokens(_response_text(parts)),
        )
        return response

    def _final_answer(
        self, brief: Brief, messages: list[ModelMessage], params: ModelRequestParameters
    ) -> ModelResponsePart:
        writer = self._writer(brief, messages)
        if params.output_tools and (params.output_mode == "tool" or not params.allow_text_output):
            tool = params.output_tools[0]
            value = writer.structured(tool.parameters_json_schema)
            findings = tool_findings(messages, own_tool_names(brief))
            if findings and isinstance(value, dict) and isinstance(value.get("output"), str):
                value["output"] += "\n\n## What the tools showed\n" + "\n".join(
                    f"- {line}" for line in findings
                )
            return ToolCallPart(tool.name, value)
        if params.output_object is not None and params.output_mode in ("native", "prompted"):
            return TextPart(json.dumps(writer.structured(params.output_object.json_schema)))
        # A plain-text answer that must name a choice (a verdict, a vote) names the first.
        named = "".join(
            f"My {what}: {options[0]}.\n\n" for what, options in choices_asked(brief.text)
        )
        return TextPart(named + writer.text())

    def _writer(
        self, brief: Brief, messages: list[ModelMessage], *, tools_done: bool = True
    ) -> Writer:
        return Writer(
            brief=brief,
            rng=self._rng(brief.text, "answer"),
            seed=self.seed,
            change_request_rate=self.change_request_rate,
            teammate_answers=_answers_received(messages),
            tool_lines=tuple(tool_findings(messages, own_tool_names(brief))),
            tools_done=tools_done,
        )

    def _rng(self, text: str, purpose: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}\x00{purpose}\x00{text}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


class PacedStreamedResponse(CompletedStreamedResponse):
    """A response written out over `seconds`, a few words at a time, as a real model streams
    it: each text part and each tool call's arguments in pieces of `STREAM_CHUNK_CHARS`.
    What `get` returns is the response itself, exactly as `request` would have answered."""

    def __init__(
        self,
        response: ModelResponse,
        *,
        model_request_parameters: ModelRequestParameters,
        seconds: float,
    ) -> None:
        super().__init__(response, model_request_parameters=model_request_parameters)
        self.seconds = seconds

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        pieces = [
            (index, part, text[start : start + STREAM_CHUNK_CHARS])
            for index, part in enumerate(self.response.parts)
            for text in [_streamed_text(part)]
            for start in range(0, max(len(text), 1), STREAM_CHUNK_CHARS)
        ]
        pause = self.seconds / len(pieces) if pieces else 0.0
        started = time.monotonic()
        for number, (index, part, text) in enumerate(pieces, start=1):
            # On a schedule, so that late wake-ups do not add up, and waking at most every
            # `STREAM_TICK_SECONDS` (the pieces due meanwhile come together), as a network
            # delivers them: a timer per piece costs more than streaming itself.
            wait = started + number * pause - time.monotonic()
            if wait >= STREAM_TICK_SECONDS or (wait > 0 and number == len(pieces)):
                await asyncio.sleep(wait)
            if isinstance(part, ToolCallPart):
                for event in self._parts_manager.handle_tool_call_delta_events(
                    vendor_part_id=index,
                    tool_name=part.tool_name,
                    args=text,
                    tool_call_id=part.tool_call_id,
                ):
                    yield event
            else:
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id=index, content=text
                ):
                    yield event


def _streamed_text(part: ModelResponsePart) -> str:
    if isinstance(part, ToolCallPart):
        return part.args if isinstance(part.args, str) else json.dumps(part.args or {})
    return part.content if isinstance(part, TextPart) else ""


@dataclass(frozen=True)
class ToolRates:
    """How often (0 to 1, per step, decided by the seed) the optional tool calls happen."""

    question: float
    feedback: float
    delegate: float


def _tool_plan(
    rng: random.Random,
    writer: Writer,
    offered: list[ToolDefinition],
    rates: ToolRates,
) -> list[tuple[ToolDefinition, dict[str, Any]]]:
    """The tool calls to make before answering, in order, each called for by the content
    (see `Writer`): search the team's knowledge; validate a teammate's entry the step's own
    material corroborates; ask the teammate who can fill the step's first gap; share the
    finding later steps need; tell an earlier step's author what it left open; delegate when
    the instructions ask for sub-tasks (or at `delegate_rate`)."""
    tools = {tool.name: tool for tool in offered}
    brief = writer.brief
    step = brief.step_name
    rolls = {name: rng.random() for name in ("ask", "feedback", "mate", "delegate")}
    plan: list[tuple[str, dict[str, Any]]] = []
    if "search_knowledge" in tools:
        plan.append(("search_knowledge", {"query": step}))
    validation = writer.validation()
    if "validate_knowledge" in tools and validation:
        plan.append(("validate_knowledge", {"knowledge_id": validation}))
    question = writer.question()
    if "ask_question" in tools and question and rolls["ask"] < rates.question:
        plan.append(("ask_question", {"to": question[0], "question": question[1]}))
    shared = writer.shared_knowledge()
    if "share_knowledge" in tools and shared:
        plan.append(("share_knowledge", shared))
    feedback = writer.feedback()
    if "give_feedback" in tools and feedback and rolls["feedback"] < rates.feedback:
        plan.append(("give_feedback", {"to": feedback[0], "message": feedback[1]}))
    delegation = writer.delegation()
    mates = [m for m in brief.teammates if m.name != brief.me]
    if delegation is None and mates and rolls["delegate"] < rates.delegate:
        mate = mates[int(rolls["mate"] * len(mates))].name
        delegation = {
            "to": mate,
            "title": f"Check the facts for {step}"[:200],
            "instructions": f"{OFFLINE_TAG} Check the facts '{step}' relies on.",
            "expected_output": "A short list of the facts checked, each marked ok or not.",
        }
    if "delegate_task" in tools and delegation:
        plan.append(("delegate_task", delegation))
    return [(tools[name], args) for name, args in plan]


# -- reading the conversation ---------------------------------------------------------------


def _brief_of(messages: list[ModelMessage], params: ModelRequestParameters) -> Brief:
    instructions = InstructionPart.join(params.instruction_parts or []) or next(
        (
            m.instructions
            for m in reversed(messages)
            if isinstance(m, ModelRequest) and m.instructions
        ),
        "",
    )
    system: list[str] = [instructions] if instructions else []
    prompts: list[str] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    system.append(part.content)
                elif isinstance(part, UserPromptPart):
                    prompts.append(_user_text(part))
    return read_brief("\n\n".join(system), prompts)


def _user_text(part: UserPromptPart) -> str:
    if isinstance(part.content, str):
        return part.content
    return "\n".join(item for item in part.content if isinstance(item, str))


def _tools_called(messages: list[ModelMessage]) -> set[str]:
    return {
        part.tool_name
        for message in messages
        if isinstance(message, ModelResponse)
        for part in message.parts
        if isinstance(part, ToolCallPart)
    }


def _answers_received(messages: list[ModelMessage]) -> tuple[str, ...]:
    return tuple(
        str(part.content)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
        and part.tool_name == "ask_question"
        and part.outcome == "success"
    )


def _message_text(messages: list[ModelMessage]) -> str:
    chunks: list[str] = []
    for message in messages:
        for part in message.parts:
            content = getattr(part, "content", None)
            if content is not None and not isinstance(part, SystemPromptPart | UserPromptPart):
                chunks.append(
                    content if isinstance(content, str) else json.dumps(content, default=str)
                )
            args = getattr(part, "args", None)
            if args is not None:
                chunks.append(args if isinstance(args, str) else json.dumps(args, default=str))
    return "\n".join(chunks)


def _response_text(parts: list[ModelResponsePart]) -> str:
    return "\n".join(
        part.content
        if isinstance(part, TextPart)
        else f"{part.tool_name} {json.dumps(part.args, default=str)}"
        if isinstance(part, ToolCallPart)
        else ""
        for part in parts
    )


def _tokens(text: str) -> int:
    """A rough count, as for English: about four characters a token."""
    return max(1, len(text) // 4)
