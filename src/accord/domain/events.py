"""The catalogue of execution events (`execution_events` rows, drives SSE and the live views).

Each kind's value is the string stored in the log and sent as the SSE `event:` name, so the
wire format is the strings of `docs/contracts.md`. The payload of each kind is typed below
(camelCase keys, as stored); kinds whose payload is a whole model's JSON (interactions,
knowledge) are typed by that model.
"""

from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class EventKind(StrEnum):
    EXECUTION_CREATED = "execution.created"
    EXECUTION_STATUS = "execution.status"
    EXECUTION_PROGRESS = "execution.progress"
    STEP_STARTED = "step.started"
    STEP_COMPLETED = "step.completed"
    STEP_FAILED = "step.failed"
    STEP_RETRYING = "step.retrying"
    STEP_SKIPPED = "step.skipped"
    STEP_CANCELLED = "step.cancelled"
    INTERACTION_CREATED = "interaction.created"
    """Data: the AgentInteraction JSON."""
    INTERACTION_ANSWERED = "interaction.answered"
    """Data: the AgentInteraction JSON."""
    KNOWLEDGE_CREATED = "knowledge.created"
    """Data: the CollaborationKnowledge JSON."""
    KNOWLEDGE_UPDATED = "knowledge.updated"
    """Data: the CollaborationKnowledge JSON."""
    WORKSPACE_FILE_WRITTEN = "workspace.file_written"
    TOOL_CALLED = "tool.called"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"


class ExecutionCreated(TypedDict):
    executionNumber: int
    workflowId: str
    triggerReason: str
    parentExecutionId: str | None
    retryOf: NotRequired[str]
    retryOfNumber: NotRequired[int]


class ExecutionStatusChanged(TypedDict):
    status: str
    previous: str
    errorMessage: NotRequired[str | None]


class ExecutionProgress(TypedDict):
    completed: int
    skipped: int
    failed: int
    total: int
    currentStepId: str | None


class StepStarted(TypedDict):
    attempt: int
    agentId: str | None
    reason: str | None


class StepCompleted(TypedDict):
    attempt: int
    agentId: str | None
    summary: Any
    inputTokens: int
    outputTokens: int
    costUsd: float
    durationS: float
    outputMode: str | None
    reusedFrom: NotRequired[str | None]
    """A result a retry kept: the execution that ran it (tokens and cost 0 here)."""


class StepFailed(TypedDict):
    attempt: int
    agentId: str | None
    error: str
    willRetry: bool


class StepRetrying(TypedDict):
    attempt: int
    nextAttempt: int
    delayS: float
    reason: str | None
    """The error or the review feedback."""


class StepSkipped(TypedDict):
    reason: str


class StepCancelled(TypedDict):
    attempt: int
    reason: str


class WorkspaceFileWritten(TypedDict):
    path: str
    """Relative to the execution's workspace."""
    size: int
    stepId: str | None
    attempt: int | None
    agentId: str | None


class ToolCalled(TypedDict):
    stepId: str
    attempt: int
    agentId: str
    agentName: str
    server: str
    tool: str
    arguments: Any
    """Redacted."""
    resultExcerpt: str | None
    durationMs: float
    error: str | None


class ApprovalEvent(TypedDict):
    """`approval.requested` (decision, approved and reason null) and `approval.decided`."""

    approvalId: str
    stepId: str
    attempt: int
    agentId: str | None
    agentName: str | None
    server: str
    tool: str
    arguments: Any
    """Redacted."""
    decision: str | None
    approved: bool | None
    reason: str | None
    deadlineAt: float | None
