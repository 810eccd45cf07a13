"""Every tool call an agent makes goes through `DurableToolset`, as every model request goes
through `MeteredModel`: allowed, limited, approved, recorded, reported.

`DurableToolset` wraps one MCP server (a `ServerSession`), one built-in toolkit or one
function tool (a pydantic-ai toolset) for one agent in one attempt. It
- shows the model only the tools on the agent's allow-list, named `<server>_<tool>` (a
  function tool by its own name), and refuses a call to any other (a tool error, never a
  call), whatever the model asks;
- refuses calls past the step's limit, bounds each call's time and the size of its result
  (a longer result is cut, with a note saying so);
- asks `approve` first when the server marks the tool `requireApproval` (the hook the
  approvals feature plugs in; a rejection reaches the model as the tool's answer);
- runs the call as one `DurableCalls.call`: after a crash the recorded result is returned
  and the call is never made again (a call cut off in flight may run again, as for models);
- reports every call, made or refused, to a `ToolCallSink` (the team records the
  `tool.called` event and counts the call in the usage).
Errors never escape as exceptions: a server that fails, a tool that answers with an error,
a call that times out all reach the model as a tool error (`ToolFailed`) it can act on.

A server's tool list is recorded too (`prepare`, called before the model runs, in a fixed
order), so a replayed attempt does not start a server only to list its tools again.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic_ai import ModelRetry, ToolFailed
from pydantic_ai.mcp import TOOL_SCHEMA_VALIDATOR
from pydantic_ai.messages import BinaryContent
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_ai.toolsets import FunctionToolset, ToolsetTool, WrapperToolset
from pydantic_core import to_jsonable_python

from accord.domain.errors import AccordError
from accord.domain.ports import DurableCalls
from accord.domain.tools import AllowList, ToolRef, redact
from accord.telemetry import metrics
from accord.tools.sessions import ServerSession

EXCERPT_CHARS = 500
"""How much of a result the `tool.called` event keeps."""


@dataclass(frozen=True)
class ToolLimits:
    """Per step attempt (see `Constraints`)."""

    max_calls: int = 50
    timeout_seconds: float = 60.0
    max_result_chars: int = 20_000


@dataclass
class ToolBudget:
    """The calls one attempt has made, shared by all its toolsets."""

    limits: ToolLimits
    calls: int = 0


@dataclass(frozen=True)
class ToolCallRequest:
    """A call about to be made, as an approver sees it."""

    server: str
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str | None = None


Approver = Callable[[ToolCallRequest], Awaitable[Decision]]
"""Decides whether a call marked `requireApproval` may be made (may wait for a person). It
runs in the attempt's workflow, not in a recorded step, so it must be durable itself (e.g. a
DBOS `recv` with a deadline): after a crash it is asked again and must give the same answer."""


@dataclass(frozen=True)
class ToolCallRecord:
    """One call as it is reported: made, failed, refused or rejected."""

    server: str
    tool: str
    arguments: dict[str, Any]
    """Redacted: values under secret-looking keys are replaced."""
    result_excerpt: str | None
    duration_ms: float
    error: str | None


ToolCallSink = Callable[[ToolCallRecord], Awaitable[None]]
"""Told of every call (the team records its event and counts it in the usage)."""


@dataclass
class DurableToolset(WrapperToolset[Any]):
    """One server or toolkit as one agent may use it in one attempt (see the module doc)."""

    name: str = ""
    allowed: AllowList = field(default_factory=lambda: AllowList(()))
    durable: DurableCalls | None = None
    budget: ToolBudget = field(default_factory=lambda: ToolBudget(ToolLimits()))
    sink: ToolCallSink | None = None
    needs_approval: Callable[[str], bool] = lambda _tool: False
    approve: Approver | None = None
    prefix_names: bool = True
    """Whether the model sees `<name>_<tool>` (servers, toolkits) or the tool's own name (a
    function tool, whose name is the toolset's)."""
    reported_as: str | None = None
    """The server its calls are reported and recorded under (default: `name`)."""
    _definitions: list[ToolDefinition] | None = None
    unavailable: str | None = None
    """Why the server's tools could not be listed (it did not start), once `prepare` ran."""

    @property
    def id(self) -> str | None:
        return self.name

    @property
    def remote(self) -> bool:
        return isinstance(self.wrapped, ServerSession)

    async def __aenter__(self) -> "DurableToolset":
        return self  # a server connects on first use; the attempt closes it (`ServerSessions`)

    async def __aexit__(self, *args: Any) -> bool | None:
        return None

    async def prepare(self) -> None:
        """List the server's tools once per attempt, as a recorded call."""
        if not self.remote or self._definitions is not None:
            return
        session = self.wrapped
        assert isinstance(session, ServerSession) and self.durable is not None

        async def listing() -> dict[str, Any]:
            try:
                tools = await session.list_tools()
            except AccordError as exc:
                return {"error": exc.message}
            return {
                "tools": [
                    {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters_json_schema,
                    }
                    for t in tools
                ]
            }

        listed = await self.durable.call(f"tools:list:{self.name}", listing)
        self.unavailable = listed.get("error")
        self._definitions = [
            ToolDefinition(
                name=t["name"],
                description=t["description"],
                parameters_json_schema=t["parameters"],
            )
            for t in listed.get("tools", [])
        ]

    def _exposed(self, tool: str) -> str:
        return f"{self.name}_{tool}" if self.prefix_names else tool

    def _original(self, exposed: str) -> str:
        return exposed.removeprefix(f"{self.name}_") if self.prefix_names else exposed

    def tool_names(self) -> list[str]:
        """The names the model sees (known once `prepare` ran, for a server)."""
        if isinstance(self.wrapped, FunctionToolset):
            names = list(self.wrapped.tools)
        else:
            names = [d.name for d in self._definitions or []]
        return [self._exposed(n) for n in names if self.allowed.allows(ToolRef(self.name, n))]

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        if self.remote:
            originals = {
                d.name: ToolsetTool[Any](
                    toolset=self,
                    tool_def=d,
                    max_retries=ctx.max_retries,
                    args_validator=TOOL_SCHEMA_VALIDATOR,
                )
                for d in self._definitions or []
            }
        else:
            originals = await self.wrapped.get_tools(ctx)
        return {
            self._exposed(name): replace(
                tool,
                toolset=self,
                tool_def=replace(tool.tool_def, name=self._exposed(name), sequential=True),
            )
            for name, tool in originals.items()
            if self.allowed.allows(ToolRef(self.name, name))
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        original = self._original(name)
        server = self.reported_as or self.name
        request = ToolCallRequest(server, original, _jsonable(tool_args))
        if not self.allowed.allows(ToolRef(self.name, original)):
            # Only reachable when a model names a tool it was never shown: refuse, do not call.
            return await self._refuse(
                request, f"{self.name}.{original} is not one of the tools you may use"
            )
        limits = self.budget.limits
        if self.budget.calls >= limits.max_calls:
            return await self._refuse(
                request,
                f"this step has made its {limits.max_calls} tool calls (the limit per step); "
                "finish with what you have",
            )
        self.budget.calls += 1
        if self.approve is not None and self.needs_approval(original):
            decision = await self.approve(request)
            if not decision.approved:
                reason = decision.reason or "no reason given"
                return await self._refuse(request, f"the user rejected this call: {reason}")

        async def invoke() -> dict[str, Any]:
            return await self._invoke(original, tool_args, ctx, tool)

        assert self.durable is not None
        outcome = await self.durable.call(f"tool:{server}.{original}", invoke)
        error = outcome.get("error")
        await self._report(request, outcome.get("result"), outcome["durationMs"], error)
        if error is not None:
            raise ToolFailed(error)
        return outcome["result"]

    async def _invoke(
        self, tool: str, arguments: dict[str, Any], ctx: RunContext[Any], exposed: ToolsetTool[Any]
    ) -> dict[str, Any]:
        """Make the call (inside the recorded step); JSON out, errors as values."""
        limits = self.budget.limits
        started = time.perf_counter()
        error: str | None = None
        result: Any = None
        try:
            async with asyncio.timeout(limits.timeout_seconds):
                if isinstance(self.wrapped, ServerSession):
                    raw = await self.wrapped.call(tool, arguments)
                else:
                    inner = replace(exposed, tool_def=replace(exposed.tool_def, name=tool))
                    raw = await self.wrapped.call_tool(tool, arguments, ctx, inner)
            result = _bounded(_jsonable(raw), limits.max_result_chars)
        except TimeoutError:
            error = (
                f"{self.name}.{tool} took longer than {limits.timeout_seconds:g} seconds "
                "(the limit per call) and was stopped"
            )
        except AccordError as exc:
            error = exc.message
        except (ModelRetry, ToolFailed) as exc:
            error = exc.message
        metrics.TOOL_CALLS.labels(self.name, tool, "ok" if error is None else "error").inc()
        return {
            "result": result,
            "error": error,
            "durationMs": round((time.perf_counter() - started) * 1000, 3),
        }

    async def _refuse(self, request: ToolCallRequest, why: str) -> Any:
        metrics.TOOL_CALLS.labels(request.server, request.tool, "refused").inc()
        await self._report(request, None, 0.0, why)
        raise ToolFailed(why)

    async def _report(
        self, request: ToolCallRequest, result: Any, duration_ms: float, error: str | None
    ) -> None:
        if self.sink is None:
            return
        excerpt = None if result is None else _text(result)[:EXCERPT_CHARS]
        await self.sink(
            ToolCallRecord(
                server=request.server,
                tool=request.tool,
                arguments=redact(request.arguments),
                result_excerpt=excerpt,
                duration_ms=duration_ms,
                error=error,
            )
        )


def _jsonable(value: Any) -> Any:
    """A tool's result as JSON data (recorded, then replayed to the model as it was)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BinaryContent):
        return f"[{value.media_type} content, {len(value.data):,} bytes, not shown]"
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return to_jsonable_python(value, fallback=str)  # a function tool's dates, models...


def _text(value: Any) -> str:
    """A result as text; `{"content": "..."}` (how MCP servers often answer) as its text."""
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            return only
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _bounded(value: Any, max_chars: int) -> Any:
    text = _text(value)
    if len(text) <= max_chars:
        return value
    return (
        text[:max_chars] + f"\n[... truncated: the result had {len(text):,} characters, "
        f"{max_chars:,} are shown (the limit per tool result)]"
    )
