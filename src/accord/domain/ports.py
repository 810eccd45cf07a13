"""The contract between the engine and the team: how one step attempt is run.

The engine (`accord.engine`) owns scheduling, persistence of attempts and durability; the
team (`accord.team`) owns who does a step and how. The engine calls a `StepPerformer` for
each attempt; the team calls back through `DurableCalls` and `ChildExecutions`, which the
engine implements (DBOS steps and child executions), and through `Approvals` when a tool
call needs a user's approval. Test doubles implement `StepPerformer`
to test the engine before, and without, real agents.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from accord.domain.approval import ToolApproval
from accord.domain.execution import Usage
from accord.domain.plan import WorkflowPlan
from accord.domain.workflow import WorkflowStep

T = TypeVar("T")


class DurableCalls(Protocol):
    """Runs I/O (a model call, a tool call) as a recorded step of the attempt: after a crash
    the recorded result is returned instead of calling again. Call sequentially, never from
    racing coroutines: recorded steps are matched by position."""

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T: ...


@dataclass(frozen=True)
class ChildResult:
    execution_id: str
    status: Literal["completed", "failed", "cancelled"]
    final_output: Any
    error: str | None = None
    deliverable: str | None = None
    """The child's deliverable (markdown), when it completed with one."""


class ChildExecutions(Protocol):
    """Starts child executions (recursive workflows) and waits for their results."""

    async def run_workflow(self, workflow_id: str, *, inputs: Mapping[str, Any]) -> ChildResult:
        """Run another workflow of the same user as a child of this attempt."""
        ...

    async def delegate(
        self,
        *,
        agent_id: str,
        title: str,
        instructions: str,
        expected_output: str,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        """Run a one-step sub-task by `agent_id` as a child execution. `on_started` is
        awaited with the child's execution ID once it exists and before it runs (the team
        links its delegation record to it); it is not called when the child cannot start."""
        ...


@dataclass(frozen=True)
class ApprovalRequest:
    """A tool call that needs a user's approval before it is made."""

    agent_id: str
    server: str
    """The MCP server or toolkit the tool belongs to."""
    tool: str
    arguments: Mapping[str, Any]
    """As the model gave them; secrets are redacted before they are stored or shown."""


class Approvals(Protocol):
    """Durable waits for a user's decision on a tool call (the engine implements it)."""

    async def wait_for_approval(self, request: ApprovalRequest) -> ToolApproval:
        """Record the request (`approval.requested`) and wait, holding no CPU, until a user
        approves or rejects it or its deadline passes; the wait survives restarts. Call
        sequentially, like `DurableCalls.call`. The answer is decided: `approved` says
        whether to make the call, `reason` why not when it is not."""
        ...


class NoApprovals:
    """For performers run without an engine that can wait (test doubles): every call that
    needs approval is refused, saying why."""

    async def wait_for_approval(self, request: ApprovalRequest) -> ToolApproval:
        raise RuntimeError(
            f"{request.server}.{request.tool} needs a user's approval, and this attempt runs "
            "without an engine that can wait for one"
        )


@dataclass(frozen=True)
class Assignment:
    agent_id: str
    reason: str


@dataclass(frozen=True)
class AttemptContext:
    execution_id: str
    workflow_id: str
    user_id: str
    plan: WorkflowPlan
    step: WorkflowStep
    attempt: int
    """1 for the first attempt; retries and review rework count up."""
    step_run_id: str
    dependency_results: Mapping[str, Any]
    """Step ID -> the result (StepResult JSON) of each completed step this one depends on."""
    feedback: str | None
    """The review feedback this attempt must address, on a rework."""
    depth: int
    durable: DurableCalls
    children: ChildExecutions
    agent_id: str | None = None
    """Filled in by the engine from `StepPerformer.assign` before `perform` is called."""
    execution_context: Mapping[str, Any] = field(default_factory=dict)
    """The execution's shared context (inputs of a child execution among them)."""
    approvals: Approvals = field(default_factory=NoApprovals)
    """Waits for users' approval of tool calls marked `requireApproval`."""


@dataclass(frozen=True)
class AttemptOutcome:
    status: Literal["completed", "failed", "rework"]
    result: dict[str, Any] | None = None
    """StepResult JSON on completion; a decision step puts its outcome in `data.outcome`."""
    error: str | None = None
    retryable: bool = True
    """False when another attempt cannot help (e.g. the budget is spent)."""
    feedback: str | None = None
    """On `rework`: what the reviewer wants changed; becomes the next attempt's feedback."""
    usage: Usage = field(default_factory=Usage)
    output_mode: str | None = None
    """The output mode the step's agent answered in (see `accord.llm.output_modes`)."""
    validation_retries: int = 0
    tool_calls: int = 0


class StepPerformer(Protocol):
    async def assign(self, ctx: AttemptContext) -> Assignment:
        """Choose the participant who does this attempt (and record why)."""
        ...

    async def perform(self, ctx: AttemptContext) -> AttemptOutcome:
        """Do the attempt with `ctx.agent_id`: prompt, tools, review. Never raises for a
        model or user fault; returns a failed outcome with a clear message instead."""
        ...
