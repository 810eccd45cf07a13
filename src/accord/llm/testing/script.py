"""What a fake model server (or `ScriptedModel`) answers, one entry per model request.

A script is a list of `Reply` and `Fault` entries, consumed in order: each HTTP request to a
fake server takes the next entry. `Reply` is a normal answer (text and/or tool calls); `Fault`
is a failure to inject (an HTTP error status, a delay, a dropped connection, a malformed body).
"""

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ToolCall:
    """A call the model makes: to a function tool, or to the output tool (`final_result` by
    default in pydantic-ai) to give its structured answer. `arguments` may be a raw string,
    e.g. malformed JSON, to test how a bad call is handled."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """A successful model answer."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 10
    output_tokens: int = 5
    reports_usage: bool = True
    """False: the answer carries no usage at all, as llama.cpp's server sends a stream."""

    @staticmethod
    def calling(*calls: ToolCall, input_tokens: int = 10, output_tokens: int = 5) -> "Reply":
        return Reply(tool_calls=calls, input_tokens=input_tokens, output_tokens=output_tokens)

    @staticmethod
    def output(arguments: dict[str, Any] | str, *, tool_name: str = "final_result") -> "Reply":
        """The final structured answer, through pydantic-ai's output tool."""
        return Reply(tool_calls=(ToolCall(tool_name, arguments),))


FaultKind = Literal["status", "delay", "drop", "malformed_json"]


@dataclass(frozen=True)
class Fault:
    """A failure to inject in place of (or, for a delay, before) an answer."""

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    """Seconds, sent as `Retry-After` (whole seconds) and `retry-after-ms` (exact)."""
    delay_seconds: float = 0.0
    then: Reply | None = None
    """For a delay: the answer sent once the delay is over (usually to a client that gave up)."""
    message: str | None = None
    """For a status: the error message (by default one naming the injected status)."""

    @staticmethod
    def http_status(
        status: int, *, retry_after: float | None = None, message: str | None = None
    ) -> "Fault":
        """An error response such as 429 (with `retry_after`), 500 or 503."""
        return Fault(kind="status", status=status, retry_after=retry_after, message=message)

    @staticmethod
    def delay(seconds: float, then: Reply | None = None) -> "Fault":
        """Answer only after `seconds`: past the client's timeout, this is a timeout."""
        return Fault(kind="delay", delay_seconds=seconds, then=then or Reply(text="late"))

    @staticmethod
    def dropped_connection() -> "Fault":
        """Send the headers and part of the body, then close the connection."""
        return Fault(kind="drop")

    @staticmethod
    def malformed_json() -> "Fault":
        """A 200 whose body is not JSON."""
        return Fault(kind="malformed_json")


ScriptEntry = Reply | Fault
