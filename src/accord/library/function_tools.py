"""Plain Python functions as agents' tools: `@accord.tool`.

pydantic-ai does the work a tool needs: the JSON schema from the signature and the
docstring's argument descriptions, and validating the model's arguments against the types
(a model that sends a wrong type is told what to fix and may try again). What this adds:
an exception the function raises reaches the model as the tool's failure (its type and
message), never as a crash of the step; and the tool is registered in this process under
where the function is defined (`module:qualname`), the reference a workflow's
`functionTools` stores, so that the team running a step finds it (`accord.tools.functions`).
Its calls then go through the same machinery as MCP tools: allow-list, limits, approval,
a durable record (a call recorded before a crash is not made again), `tool.called` events.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, overload

from pydantic_ai import ModelRetry, Tool, ToolFailed

from accord.domain.tools import FunctionToolSpec
from accord.tools.functions import register

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class FunctionTool(Generic[P, R]):
    """A function an agent may call, made by `@accord.tool`; calling it calls the function."""

    function: Callable[P, R]
    name: str
    description: str
    reference: str
    """Where the function is defined, `module:qualname`: how a workflow file names it."""
    _tool: Tool[Any] = field(repr=False, compare=False)
    require_approval: bool = False
    """Whether every call waits for a user's approval (as `requireApproval` on a server)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    @property
    def json_schema(self) -> dict[str, Any]:
        """The arguments' JSON schema, as the model sees it."""
        return dict(self._tool.tool_def.parameters_json_schema)

    def as_pydantic_ai_tool(self) -> Tool[Any]:
        """The pydantic-ai `Tool` that an agent's model calls."""
        return self._tool

    def register(self) -> None:
        """Make this the function tool its `reference` names in this process (decorating
        does it; running a workflow does it again for the tools its agents hold)."""
        register(self.reference, self._tool)

    def spec(self) -> FunctionToolSpec:
        """Its declaration in a workflow's `functionTools`."""
        return FunctionToolSpec(function=self.reference, require_approval=self.require_approval)


@overload
def tool(function: Callable[P, R], /) -> FunctionTool[P, R]: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, require_approval: bool = False
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    require_approval: bool = False,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Make a plain function (sync or async) a tool agents can be given.

    The model sees the function's name (or `name`), its docstring's summary (or
    `description`) and a JSON schema of its parameters, with each parameter's description
    taken from the docstring (Google, NumPy or Sphinx style). Arguments are validated
    against the type hints before the function runs. An exception it raises is returned to
    the model as the tool's failure; raise `pydantic_ai.ModelRetry` to ask the model to
    call again with other arguments. Use it bare (`@accord.tool`) or with options
    (`@accord.tool(name="price", require_approval=True)`).

    Give it to an agent in its tools (`Agent(tools=[lookup_price, "workspace"])`). Calls are
    durable like any tool call: after a crash a recorded call is not made again, so the
    function runs at most once per call the model made (a call cut off mid-way may run
    again). With `require_approval` every call waits for a user's decision (`accord
    approvals`, the web UI), and a rejection reaches the model as the tool's answer.

    A workflow file names the tool by where the function is defined
    (`functionTools: {lookup_price: {function: "pricing:lookup_price"}}`): only a Python
    process that has imported that module can run the steps that use it. Elsewhere (`accord
    run` of the file, a server's worker) such a step fails, saying which function is missing.
    """

    def make(fn: Callable[P, R]) -> FunctionTool[P, R]:
        made = Tool(_failures_to_model(fn), name=name, description=description, takes_ctx=False)
        reference = f"{fn.__module__}:{fn.__qualname__}"
        found = FunctionTool(
            fn, made.name, made.description or "", reference, made, require_approval
        )
        found.register()
        return found

    return make if function is None else make(function)


def _failures_to_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, raising `ToolFailed` (the model reads it as the call's result) for any error."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                awaited: Awaitable[Any] = fn(*args, **kwargs)
                return await awaited
            except (ModelRetry, ToolFailed):
                raise
            except Exception as exc:
                raise ToolFailed(f"{type(exc).__name__}: {exc}") from exc

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ModelRetry, ToolFailed):
            raise
        except Exception as exc:
            raise ToolFailed(f"{type(exc).__name__}: {exc}") from exc

    return call
