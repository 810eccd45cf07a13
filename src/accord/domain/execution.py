"""Executions of a workflow, their step attempts and their event log."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.deliverable import Deliverable
from accord.domain.enums import ExecutionStatus, StepRunStatus, TriggerReason


class Usage(CamelModel):
    """Tokens and money spent; added up per call, step, agent and execution."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    """Extension: calls of MCP servers' and toolkits' tools (made, failed or refused)."""
    tool_seconds: float = 0.0
    """Extension: seconds those calls took."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            model_calls=self.model_calls + other.model_calls,
            tool_calls=self.tool_calls + other.tool_calls,
            tool_seconds=self.tool_seconds + other.tool_seconds,
        )


class WorkflowExecution(CamelModel):
    id: str
    workflow_id: str
    execution_number: int
    trigger_reason: TriggerReason
    triggered_by: str | None = None

    current_step_id: str | None = None
    execution_context: dict[str, Any] = Field(default_factory=dict)
    step_results: dict[str, Any] = Field(default_factory=dict)

    active_agents: list[str] = Field(default_factory=list)
    agent_assignments: dict[str, str] = Field(default_factory=dict)

    status: ExecutionStatus = ExecutionStatus.PENDING
    error_message: str | None = None
    final_output: Any = None
    """The results of the last completed steps, by step ID."""

    started_at: datetime
    completed_at: datetime | None = None
    updated_at: datetime

    # Extensions
    parent_execution_id: str | None = None
    parent_step_id: str | None = None
    depth: int = 0
    definition: dict[str, Any] = Field(default_factory=dict)
    """The workflow as it was when the execution started (type, configuration, agents)."""
    estimated_duration: int | None = None
    """Seconds, estimated when it started (`accord.domain.estimates`)."""
    actual_duration: int | None = None
    """Seconds."""
    usage: Usage = Field(default_factory=Usage)
    deliverable: Deliverable | None = None
    """What the team hands over, as markdown: set when the execution completes."""
    retry_of: str | None = None
    """The failed or cancelled execution this one retries: its completed results were kept."""


class StepRun(CamelModel):
    """One attempt at one step of one execution (extension: `step_runs`)."""

    id: str
    execution_id: str
    step_id: str
    attempt: int
    status: StepRunStatus
    agent_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    feedback: str | None = None
    """Review feedback this attempt reworks."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    output_mode: str | None = None
    """How the agent's model gave its answer: tool, native, prompted or text (see
    `accord.llm.output_modes`); None for a step no model answered (a sub-workflow)."""
    validation_retries: int = 0
    """Answers sent back to a model because they did not validate."""
    tool_calls: int = 0
    """Function tools the models called during the attempt."""
    tool_seconds: float = 0.0
    """Seconds spent in MCP servers' and toolkits' tools."""
    executor_id: str | None = None
    reused_from: str | None = None
    """The execution whose completed result a retry kept instead of running the step again;
    the attempt's tokens and cost stay with that execution (here they are zero)."""


class ExecutionEvent(CamelModel):
    """One entry of an execution's append-only event log; `id` orders it and resumes SSE."""

    id: int
    execution_id: str
    user_id: str
    kind: str
    step_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


TEXT_DELTA_KIND: Literal["text.delta"] = "text.delta"
"""The SSE event kind of a `TextDelta` (never a row of the event log)."""


class TextDelta(CamelModel):
    """A piece of what an agent is writing right now, during one model call of a running
    attempt: sent live to watchers, coalesced (a few a second), never stored. The recorded
    result of the call (the step's result, its events) stays the truth; a watcher that missed
    deltas loses nothing but the show.

    `text` continues the call's text at `offset` (characters already sent for that call), so
    a watcher that sees a gap or a repeat knows it. A call the model makes to a tool streams
    its arguments as `part` `tool_call` with the tool's name; the answer itself (plain text,
    or the text fields of a structured answer as they are written) is `part` `text`."""

    execution_id: str
    user_id: str
    step_id: str
    attempt: int
    agent_id: str
    agent_name: str
    call: int
    """Which model call of this agent in this attempt (1, 2, ...): a tool round trip, a
    retry or a teammate's answer starts a new one."""
    kind: Literal["text.delta"] = TEXT_DELTA_KIND
    """The SSE event kind, as an `ExecutionEvent`'s (a delta has no `id`: it is not in the log)."""
    part: Literal["text", "tool_call"] = "text"
    tool: str | None = None
    offset: int = 0
    text: str
