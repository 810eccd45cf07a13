"""`ScriptedModel`: a pydantic-ai `Model` that replays a script, for team and engine tests.

    coordinator = ScriptedModel([Reply.output({"agent": "mallory", "reason": "why not"})])
    reviewer = ScriptedModel([
        Reply.output({"verdict": "request_changes", "feedback": "Add sources."}),
        Reply.output({"verdict": "approve", "feedback": "Good now."}),
    ])
    flaky = ScriptedModel([ModelFailure("rate limited"), Reply(text="fine")])

Each model request takes the next entry: a `Reply` (text and/or tool calls), a ready-made
`ModelResponse`, or an exception to raise. `requests` records what the model was sent, so a
test can assert on prompts, offered tools and retry feedback.
"""

from collections import deque
from collections.abc import AsyncGenerator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ToolCallPart,
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
from pydantic_ai.usage import RequestUsage

from accord.llm.testing.script import Reply

ScriptedAnswer = Reply | ModelResponse | BaseException


class ScriptExhausted(AssertionError):
    """The model was asked more often than the test scripted: a test bug, never a model fault."""


@dataclass(frozen=True)
class ScriptedRequest:
    """One request the model received."""

    messages: list[ModelMessage]
    parameters: ModelRequestParameters

    @property
    def prompt(self) -> str:
        """The user prompt text of the whole conversation so far."""
        return "\n".join(
            part.content
            for message in self.messages
            if isinstance(message, ModelRequest)
            for part in message.parts
            if isinstance(part, UserPromptPart) and isinstance(part.content, str)
        )

    @property
    def tool_names(self) -> list[str]:
        return [tool.name for tool in self.parameters.function_tools]


class ScriptedModel(Model):
    def __init__(
        self, script: Iterable[ScriptedAnswer] = (), *, model_name: str = "scripted"
    ) -> None:
        super().__init__(
            profile=ModelProfile(supports_json_schema_output=True, supports_json_object_output=True)
        )
        self._script: deque[ScriptedAnswer] = deque(script)
        self._model_name = model_name
        self.requests: list[ScriptedRequest] = []

    def add(self, *answers: ScriptedAnswer) -> None:
        self._script.extend(answers)

    @property
    def remaining(self) -> int:
        return len(self._script)

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "scripted"

    @property
    def provider(self) -> None:
        return None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        _, params = self.prepare_request(model_settings, model_request_parameters)
        return self._next(messages, params)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        _, params = self.prepare_request(model_settings, model_request_parameters)
        response = self._next(messages, params)
        yield CompletedStreamedResponse(
            response, model_request_parameters=params, replay_events=True
        )

    def _next(self, messages: list[ModelMessage], params: ModelRequestParameters) -> ModelResponse:
        self.requests.append(ScriptedRequest(list(messages), params))
        if not self._script:
            raise ScriptExhausted(
                f"ScriptedModel {self._model_name!r} got request {len(self.requests)} "
                "but its script has no more answers"
            )
        answer = self._script.popleft()
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, ModelResponse):
            return answer
        return _response(answer, self._model_name)


def _response(reply: Reply, model_name: str) -> ModelResponse:
    parts: list[ModelResponsePart] = []
    if reply.text is not None:
        parts.append(TextPart(reply.text))
    parts += [ToolCallPart(call.name, call.arguments) for call in reply.tool_calls]
    return ModelResponse(
        parts=parts,
        model_name=model_name,
        provider_name="scripted",
        usage=RequestUsage(input_tokens=reply.input_tokens, output_tokens=reply.output_tokens),
    )
