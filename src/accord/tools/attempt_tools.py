"""The tools of one step attempt: which toolsets an agent gets, and their shared state.

`AttemptTools` is built once per attempt from the workflow's `mcpServers`, `toolkits` and
`functionTools`. `for_agent` gives an agent one `DurableToolset` per server, toolkit or
function tool its allow-list reaches (nothing else: the model never sees another tool); all
of them share the attempt's server sessions (one per server at most) and its call budget.
`prepare` lists the servers' tools before the model runs, and fails the step only when
nothing the agent may use can work; `close` ends the sessions.

`${WORKSPACE}` in a server's declaration is the execution's workspace folder (created when
the tools are built), `${EXECUTION_ID}` its ID; everything else comes from the environment of
this process.
"""

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_ai.toolsets import AbstractToolset, FunctionToolset

from accord.domain.ports import DurableCalls
from accord.domain.tools import (
    BUILTIN_TOOLKITS,
    FUNCTION_TOOL_SERVER,
    AllowList,
    FunctionToolSpec,
    McpServer,
    ToolkitSettings,
)
from accord.tools.durable import Approver, DurableToolset, ToolBudget, ToolCallSink, ToolLimits
from accord.tools.functions import function_tool
from accord.tools.sessions import ServerSessions, ServerUnavailable

FUNCTION_TOOL_RETRIES = 5
"""How often a model may call a function tool with arguments that do not validate (each
time told what to fix) before its run fails; as the workspace toolkit's."""
ToolkitFactory = Callable[[], AbstractToolset[Any]]
"""Builds a built-in toolkit (e.g. `workspace`) for the attempt."""


@dataclass
class AttemptTools:
    servers: Mapping[str, McpServer]
    workspace: Path
    execution_id: str
    durable: DurableCalls
    limits: ToolLimits = field(default_factory=ToolLimits)
    toolkits: Mapping[str, ToolkitFactory] = field(default_factory=dict)
    approve: Approver | None = None
    """The approval hook (see `DurableToolset`); None: calls marked requireApproval are made."""
    toolkit_settings: Mapping[str, ToolkitSettings] = field(default_factory=dict)
    """The workflow's `toolkits` block: which toolkit calls need approval."""
    functions: Mapping[str, FunctionToolSpec] = field(default_factory=dict)
    """The workflow's `functionTools`, by tool name."""

    def __post_init__(self) -> None:
        self.environ = {
            **os.environ,
            "WORKSPACE": str(self.workspace),
            "EXECUTION_ID": self.execution_id,
            "ACCORD_PYTHON": sys.executable,
        }
        self.sessions = ServerSessions(self.servers, environ=self.environ)
        self.budget = ToolBudget(self.limits)
        self.missing: list[str] = []

    def for_agent(self, tools: list[str], *, sink: ToolCallSink) -> list[DurableToolset]:
        """The toolsets an agent with allow-list `tools` gets, in declaration order. A
        built-in toolkit this process does not provide is noted in `missing`; a function tool
        it has not imported raises `FunctionToolMissing`."""
        allowed = AllowList(tuple(tools))
        self.missing = [
            name
            for name in allowed.servers(sorted(BUILTIN_TOOLKITS))
            if name not in self.toolkits and name not in self.servers
        ]
        reachable = allowed.servers([*self.servers, *self.toolkits, *self.functions])
        if reachable:
            self.workspace.mkdir(parents=True, exist_ok=True)
        toolsets = []
        for name in reachable:
            wrapped: AbstractToolset[Any]
            prefix_names, reported_as = True, None
            if name in self.servers:
                wrapped = self.sessions.get(name)
                needs_approval: Callable[[str], bool] = self.servers[name].needs_approval
            elif name in self.toolkits:
                wrapped = self.toolkits[name]()
                needs_approval = self.toolkit_settings.get(name, ToolkitSettings()).needs_approval
            else:  # a function tool: the model sees its own name, calls are `function.<name>`
                spec = self.functions[name]
                wrapped = FunctionToolset(
                    [function_tool(name, spec)], max_retries=FUNCTION_TOOL_RETRIES, id=name
                )
                needs_approval = _always if spec.require_approval else _never
                prefix_names, reported_as = False, FUNCTION_TOOL_SERVER
            toolsets.append(
                DurableToolset(
                    wrapped,
                    name=name,
                    allowed=allowed,
                    durable=self.durable,
                    budget=self.budget,
                    sink=sink,
                    needs_approval=needs_approval,
                    approve=self.approve,
                    prefix_names=prefix_names,
                    reported_as=reported_as,
                )
            )
        return toolsets

    async def prepare(self, toolsets: list[DurableToolset]) -> list[str]:
        """List the servers' tools (recorded), one after another. Returns why each server that
        could not start is unavailable; raises `ServerUnavailable` when none of the agent's
        servers and toolkits can be used, so the step fails saying why."""
        for toolset in toolsets:
            await toolset.prepare()
        down = [t.unavailable for t in toolsets if t.unavailable]
        if toolsets and len(down) == len(toolsets):
            raise ServerUnavailable("\n".join(down))
        return down + [
            f"the built-in toolkit {name!r} is not available in this version of Accord"
            for name in self.missing
        ]

    async def close(self) -> None:
        await self.sessions.close()


def _always(_tool: str) -> bool:
    return True


def _never(_tool: str) -> bool:
    return False
