"""Accord: teams of LLM agents running durable workflows together.

The names below are Accord's Python API, and the only stable surface: everything else in
the package (`accord.domain`, `accord.engine`, ...) is private and may change.

Define a team and its work:
    `Agent`, `Step`, `Workflow` (pipeline, parallel, conditional or recursive),
    `Coordination`, `Constraints`; the agents' tools: Python functions made tools with
    `@tool` (a `FunctionTool`, given in `Agent(tools=...)`), `McpServer` declarations (by
    name in `Workflow(mcp_servers=...)`, allowed per agent in `Agent(tools=...)`) and
    built-in toolkits (`workspace`, configured with `ToolkitSettings`);
    `Workflow.from_yaml` / `to_yaml` read and write the
    workflow file format. An agent's model is `"offline"`, a pydantic-ai model name, a saved
    provider's name, or a pydantic-ai `Model` object such as `OfflineModel`.

Run it in this process (on the local database, as `accord run` does):
    `run`, `arun`, `stream` (or the same methods of `Workflow`; `run` and `arun` take an
    `approve` callback for tool calls that need a `ToolApproval`), returning a `RunResult`
    with a `StepOutcome` (and its `StepResult`) per step, `AgentInteraction`s, `Knowledge`,
    `Usage`, `CollaborationMetrics` and the workspace's `WorkspaceFile`s; `stream` yields
    `ExecutionEvent`s.

Drive a running server:
    `Client`, `AsyncClient`.

Errors:
    `ValidationError` (every problem of a workflow or request, each with field and fix),
    `ApiError` (any other error a server answers with).

Importing `accord` is cheap: each name loads its machinery when first used.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from accord.domain.approval import ToolApproval
    from accord.domain.execution import ExecutionEvent, Usage
    from accord.domain.interaction import AgentInteraction
    from accord.domain.knowledge import CollaborationKnowledge as Knowledge
    from accord.domain.metrics import CollaborationMetrics
    from accord.domain.step_result import StepResult
    from accord.domain.tools import McpServer, ToolkitSettings
    from accord.domain.workspace import WorkspaceFile
    from accord.library.client.aio import AsyncClient
    from accord.library.client.sync import Client
    from accord.library.definition import Agent, Constraints, Coordination, Step, Workflow
    from accord.library.errors import ApiError, ValidationError
    from accord.library.function_tools import FunctionTool, tool
    from accord.library.results import RunResult, StepOutcome
    from accord.library.running import ExecutionStream, arun, run, stream
    from accord.llm.offline import OfflineModel

__all__ = [
    "Agent",
    "AgentInteraction",
    "ApiError",
    "AsyncClient",
    "Client",
    "CollaborationMetrics",
    "Constraints",
    "Coordination",
    "ExecutionEvent",
    "ExecutionStream",
    "FunctionTool",
    "Knowledge",
    "McpServer",
    "OfflineModel",
    "RunResult",
    "Step",
    "StepOutcome",
    "StepResult",
    "ToolApproval",
    "ToolkitSettings",
    "Usage",
    "ValidationError",
    "Workflow",
    "WorkspaceFile",
    "__version__",
    "arun",
    "run",
    "stream",
    "tool",
]

# Where each public name lives (module, attribute): loaded on first use, so `import accord`
# (and the `accord` command, which imports this package) stays fast.
_LAZY: dict[str, tuple[str, str]] = {
    "Agent": ("accord.library.definition", "Agent"),
    "Step": ("accord.library.definition", "Step"),
    "Workflow": ("accord.library.definition", "Workflow"),
    "Coordination": ("accord.library.definition", "Coordination"),
    "Constraints": ("accord.library.definition", "Constraints"),
    "run": ("accord.library.running", "run"),
    "arun": ("accord.library.running", "arun"),
    "stream": ("accord.library.running", "stream"),
    "ExecutionStream": ("accord.library.running", "ExecutionStream"),
    "RunResult": ("accord.library.results", "RunResult"),
    "StepOutcome": ("accord.library.results", "StepOutcome"),
    "StepResult": ("accord.domain.step_result", "StepResult"),
    "ExecutionEvent": ("accord.domain.execution", "ExecutionEvent"),
    "Usage": ("accord.domain.execution", "Usage"),
    "AgentInteraction": ("accord.domain.interaction", "AgentInteraction"),
    "Knowledge": ("accord.domain.knowledge", "CollaborationKnowledge"),
    "CollaborationMetrics": ("accord.domain.metrics", "CollaborationMetrics"),
    "OfflineModel": ("accord.llm.offline", "OfflineModel"),
    "McpServer": ("accord.domain.tools", "McpServer"),
    "ToolkitSettings": ("accord.domain.tools", "ToolkitSettings"),
    "ToolApproval": ("accord.domain.approval", "ToolApproval"),
    "tool": ("accord.library.function_tools", "tool"),
    "FunctionTool": ("accord.library.function_tools", "FunctionTool"),
    "Client": ("accord.library.client.sync", "Client"),
    "AsyncClient": ("accord.library.client.aio", "AsyncClient"),
    "ValidationError": ("accord.library.errors", "ValidationError"),
    "ApiError": ("accord.library.errors", "ApiError"),
    "WorkspaceFile": ("accord.domain.workspace", "WorkspaceFile"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'accord' has no attribute {name!r}") from None
    from importlib import import_module

    value = getattr(import_module(module_name), attribute)
    globals()[name] = value  # found once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
