"""Watching a model write: its output as it is produced, for whoever observes the request.

Agents call models with `Model.request` (the whole answer, recorded as one durable call).
Whoever wants to see the answer being written sets a `TextObserver` around that request with
`observing`; the model that finally talks to the vendor (`RetryingModel`, the offline model)
then opens the vendor's stream instead, hands each event to the observer and returns the
response the stream built (`observed_request`). Wrappers in between (output modes, metering,
durability) are untouched, and the response is the same as without an observer.

`TextTap` is the usual observer: it turns stream events into text (an answer's text, the
text fields of a structured answer as they are written, a tool call's arguments) and hands
it on in pieces of a sensible size and rate, not per token.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, Protocol

import pydantic_core
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings

FLUSH_CHARS = 200
FLUSH_SECONDS = 0.1
"""A piece is handed on once it holds this many characters or is this old, whichever comes
first: a watcher sees the text grow smoothly, at most about ten messages a second a writer."""
MAX_PIECE_CHARS = 1000
"""No piece is longer (a provider may send a long chunk at once): pieces travel through
Postgres `NOTIFY`, whose payload is limited to 8,000 bytes."""


class TextObserver(Protocol):
    """Sees one model request's stream: `started` before each request (a retried request
    starts again), each event, then `ended`."""

    def started(self) -> None: ...

    def saw(self, event: ModelResponseStreamEvent) -> None: ...

    def ended(self) -> None: ...


_observer: ContextVar[TextObserver | None] = ContextVar("accord_text_observer", default=None)


@contextmanager
def observing(observer: TextObserver) -> Iterator[None]:
    """Model requests made inside the block (in this task) stream to `observer`."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


def observed() -> bool:
    """Whether a request made now has an observer."""
    return _observer.get() is not None


async def observed_request(
    model: Model,
    messages: list[ModelMessage],
    model_settings: ModelSettings | None,
    model_request_parameters: ModelRequestParameters,
) -> ModelResponse:
    """`model.request`, streamed to the observer when there is one. Only the model that talks
    to the vendor calls this (so one request streams once); the observer is cleared for the
    request itself, so a model that streams through its own `request` does not recurse."""
    observer = _observer.get()
    if observer is None:
        return await model.request(messages, model_settings, model_request_parameters)
    token = _observer.set(None)
    observer.started()
    try:
        async with model.request_stream(
            messages, model_settings, model_request_parameters
        ) as stream:
            async for event in stream:
                observer.saw(event)
        return stream.get()
    finally:
        observer.ended()
        _observer.reset(token)


@dataclass(frozen=True)
class TextPiece:
    """Some text of one model call, in order: see `accord.domain.execution.TextDelta`."""

    call: int
    part: Literal["text", "tool_call"]
    tool: str | None
    offset: int
    text: str


@dataclass
class _Part:
    part: Literal["text", "tool_call"]
    tool: str | None
    structured: bool
    """The answer as an output tool's JSON arguments: shown as the text of its fields."""
    raw: str = ""
    shown: str = ""
    """The text handed on so far."""

    def text(self) -> str:
        """What the part says so far (its fields' text, for a structured answer)."""
        return _fields_text(self.raw) if self.structured else self.raw


@dataclass
class TextTap:
    """A `TextObserver` that hands `emit` the text of each call in coalesced pieces.

    `output_tools` are the names of the tools through which the model gives its structured
    answer: their JSON arguments are shown as the text of their string fields as they are
    written (a deliverable's `summary` and `output`, a reviewer's `feedback`), not as JSON.
    The text is worked out when a piece is due, not per event: the JSON is read once a piece.
    """

    emit: Callable[[TextPiece], None]
    output_tools: frozenset[str] = frozenset()
    flush_chars: int = FLUSH_CHARS
    flush_seconds: float = FLUSH_SECONDS
    call: int = 0
    _parts: dict[int, _Part] = field(default_factory=dict)
    _current: _Part | None = None
    _waiting: int = 0
    """Characters received for `_current` since the last piece."""
    _sent: int = 0
    _since: float = 0.0

    def started(self) -> None:
        self.call += 1
        self._parts.clear()
        self._current, self._waiting, self._sent = None, 0, 0
        self._since = time.monotonic()

    def saw(self, event: ModelResponseStreamEvent) -> None:
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart):
                self._parts[event.index] = _Part("text", None, structured=False)
                self._add(event.index, part.content)
            elif isinstance(part, ToolCallPart):
                structured = part.tool_name in self.output_tools
                self._parts[event.index] = _Part(
                    "text" if structured else "tool_call",
                    None if structured else part.tool_name,
                    structured=structured,
                )
                self._add(event.index, _args_text(part.args))
        elif isinstance(event, PartDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextPartDelta):
                self._add(event.index, delta.content_delta)
            elif isinstance(delta, ToolCallPartDelta):
                self._add(event.index, _args_text(delta.args_delta))

    def ended(self) -> None:
        self._flush()

    def _add(self, index: int, raw: str) -> None:
        part = self._parts.get(index)
        if part is None or not raw:
            return
        if part is not self._current:
            self._flush()
            self._current = part
        part.raw += raw
        self._waiting += len(raw)
        if (
            self._waiting >= self.flush_chars
            or time.monotonic() - self._since >= self.flush_seconds
        ):
            self._flush()

    def _flush(self) -> None:
        part = self._current
        self._waiting, self._since = 0, time.monotonic()
        if part is None:
            return
        shown = part.text()
        if not shown.startswith(part.shown):
            return  # not a continuation (the JSON is mid-way through a token): wait
        text, part.shown = shown[len(part.shown) :], shown
        for start in range(0, len(text), MAX_PIECE_CHARS):
            piece = text[start : start + MAX_PIECE_CHARS]
            self.emit(TextPiece(self.call, part.part, part.tool, self._sent, piece))
            self._sent += len(piece)


def _args_text(args: object) -> str:
    if args is None:
        return ""
    if isinstance(args, str):
        return args
    return pydantic_core.to_json(args).decode()


def _fields_text(raw: str) -> str:
    """The string fields of a JSON object being written, in the order written, one paragraph
    each (the last one as far as it goes)."""
    try:
        value = pydantic_core.from_json(raw, allow_partial="trailing-strings")
    except ValueError:
        return ""
    if not isinstance(value, dict):
        return ""
    return "\n\n".join(v for v in value.values() if isinstance(v, str) and v)
