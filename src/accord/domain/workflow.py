"""Workflow definitions: the spec's CollaborationWorkflow, WorkflowConfiguration and WorkflowStep.

Fields beyond the spec are marked "extension"; each has a default, so every spec-shaped
definition is valid as it stands.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.enums import (
    CommunicationStyle,
    ConsensusFallback,
    DecisionMaking,
    StepType,
    WorkflowStatus,
    WorkflowType,
)
from accord.domain.metrics import CollaborationMetrics
from accord.domain.tools import FunctionToolSpec, McpServer, ToolkitSettings

# Limits checked when a definition is created or updated (see validation.py).
MAX_STEPS = 500
MAX_RETRIES_LIMIT = 10
MAX_TIMEOUT_MINUTES = 24 * 60
MAX_EXECUTION_SECONDS = 7 * 24 * 3600
MAX_CONCURRENCY = 64
MAX_RECURSION_DEPTH = 5
MAX_FAN_OUT = 20
MAX_CONSENSUS_ROUNDS = 10
DEFAULT_DECISION_OPTIONS = ("approve", "reject")
"""What a decision step without `decisionOptions` decides between."""


class WorkflowStep(CamelModel):
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    type: StepType = StepType.IMPLEMENTATION

    assigned_agent_role: str | None = None
    preferred_agent_id: str | None = None
    required_skills: list[str] = Field(default_factory=list)

    depends_on: list[str] = Field(default_factory=list)
    can_run_in_parallel: bool = False

    instructions: str = ""
    expected_output: str = ""
    timeout_minutes: float | None = None

    validation_criteria: list[str] = Field(default_factory=list)
    review_required: bool = False
    reviewer_role: str | None = None

    condition: str | None = None
    """Extension: a safe expression over earlier results; the step is skipped when false."""
    max_retries: int | None = None
    """Extension: overrides `constraints.maxRetries` for this step."""
    decision_options: list[str] = Field(default_factory=list)
    """Extension: the choices a `decision` step votes on (default: approve / reject)."""
    sub_workflow_id: str | None = None
    """Extension (recursive): this step runs that workflow as a child execution."""

    def decision_choices(self) -> tuple[str, ...]:
        """The choices a decision step decides between, each once, in the listed order."""
        return tuple(dict.fromkeys(self.decision_options)) or DEFAULT_DECISION_OPTIONS


class Coordination(CamelModel):
    communication_style: CommunicationStyle = CommunicationStyle.TECHNICAL
    decision_making: DecisionMaking = DecisionMaking.COORDINATOR
    knowledge_sharing: bool = True
    consensus_rounds: int = 3
    """Extension: rounds a consensus may take before it falls back."""
    consensus_fallback: ConsensusFallback = ConsensusFallback.COORDINATOR
    """Extension: what a consensus that never converges falls back to."""
    question_deadline_minutes: float = 5.0
    """Extension: how long a question waits for its answer."""
    fail_on_unanswered_question: bool = False
    """Extension: an unanswered question fails the asking step instead of letting it go on."""


class Constraints(CamelModel):
    max_execution_time: float | None = Field(
        default=None,
        description="Seconds the whole execution may take (the spec's unit: 3600 is an hour); "
        "past it the execution fails.",
    )
    max_retries: int | None = 2
    allow_parallel_execution: bool | None = True
    max_concurrency: int = 4
    """Extension: how many steps of one execution run at once."""
    max_depth: int = 3
    """Extension (recursive): how deep child executions may nest."""
    max_fan_out: int = 5
    """Extension (recursive): how many child executions one step may start."""
    budget_tokens: int | None = None
    """Extension: total tokens the execution may use before it is stopped."""
    budget_usd: float | None = None
    """Extension: total cost in US dollars the execution may reach before it is stopped."""
    max_tool_calls_per_step: int = 50
    """Extension: tool calls one step attempt may make; more get a tool error."""
    tool_call_timeout_seconds: float = 60.0
    """Extension: seconds one tool call may take before it fails (the model is told)."""
    max_tool_result_chars: int = 20_000
    """Extension: a longer tool result reaches the model truncated, with a note saying so."""
    approval_timeout_minutes: float | None = Field(
        default=None, gt=0, le=MAX_EXECUTION_SECONDS / 60
    )
    """Extension: how long a tool call that needs approval waits for a user's decision
    (None: until someone decides)."""
    approval_timeout_outcome: Literal["approve", "reject"] = "reject"
    """Extension: what an approval nobody decided in time becomes."""


class WorkspaceSettings(CamelModel):
    """Extension: where the execution's files live."""

    path: str | None = None
    """An absolute folder every execution of this workflow works in (shared by its runs);
    None: a fresh folder per execution under the data directory."""


class WorkflowConfiguration(CamelModel):
    steps: list[WorkflowStep] = Field(default_factory=list)
    coordination: Coordination = Field(default_factory=Coordination)
    constraints: Constraints = Field(default_factory=Constraints)
    mcp_servers: dict[str, McpServer] = Field(default_factory=dict)
    """Extension: the MCP servers the agents may use (each agent's `tools` picks), by name."""
    toolkits: dict[str, ToolkitSettings] = Field(default_factory=dict)
    """Extension: settings of built-in toolkits (which calls wait for approval), by name."""
    function_tools: dict[str, FunctionToolSpec] = Field(default_factory=dict)
    """Extension: Python functions the agents may use (`@accord.tool`), by tool name."""
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    """Extension: the folder the team's files go to."""


class ExecutionRecord(CamelModel):
    timestamp: datetime
    step_id: str
    agent_id: str | None = None
    action: str
    result: Any = None
    duration: float = 0.0
    """Seconds."""


class CreateWorkflowRequest(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=10_000)
    workflow_type: WorkflowType = WorkflowType.PIPELINE
    participating_agents: list[str]
    coordinator_agent_id: str | None = None
    configuration: WorkflowConfiguration
    project_id: str | None = None


class UpdateWorkflowRequest(CamelModel):
    """A partial update: only the fields given change; the result is validated whole."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    workflow_type: WorkflowType | None = None
    participating_agents: list[str] | None = None
    coordinator_agent_id: str | None = None
    configuration: WorkflowConfiguration | None = None
    project_id: str | None = None
    """One of your projects; null takes the workflow out of its project."""


class CollaborationWorkflow(CamelModel):
    id: str
    user_id: str
    project_id: str | None = None

    name: str
    description: str
    workflow_type: WorkflowType

    configuration: WorkflowConfiguration
    participating_agents: list[str]
    coordinator_agent_id: str | None = None

    status: WorkflowStatus = WorkflowStatus.DRAFT
    current_step: int = 0
    total_steps: int = 0

    execution_history: list[ExecutionRecord] = Field(default_factory=list)
    collaboration_metrics: CollaborationMetrics | None = None
    final_result: Any = None

    started_at: datetime | None = None
    completed_at: datetime | None = None
    estimated_duration: int | None = None
    """Seconds its next run should take, from past runs (`accord.domain.estimates`)."""
    actual_duration: int | None = None
    """Seconds its latest run took."""

    template_id: str | None = None
    """Extension: the template this workflow was made from (drives its success rate)."""

    created_at: datetime
    updated_at: datetime
