"""Tool calls that wait for a user's approval (`requireApproval` on an MCP server or tool).

An agent's call of such a tool pauses its attempt until a user approves or rejects it (or its
deadline passes: the workflow's `constraints.approvalTimeoutOutcome` decides then). A
rejection goes back to the model as the tool's answer, with its `reason`.
"""

from datetime import datetime
from typing import Any, Literal

from accord.domain.base import CamelModel
from accord.domain.enums import ApprovalStatus

TimeoutOutcome = Literal["approve", "reject"]


class ToolApproval(CamelModel):
    """A tool call waiting for (or given) a user's decision: who asked, which tool, with
    which arguments, and what was decided."""

    id: str
    execution_id: str
    step_id: str
    attempt: int
    agent_id: str | None = None
    agent_name: str | None = None
    server: str
    """The MCP server or toolkit the tool belongs to."""
    tool: str
    arguments: dict[str, Any]
    """The call's arguments as the agent gave them, secrets redacted."""
    status: ApprovalStatus
    reason: str | None = None
    decided_by: str | None = None
    """The user who decided; None for an expiry."""
    deadline_at: datetime | None = None
    on_timeout: TimeoutOutcome = "reject"
    """What happens when the deadline passes without a decision."""
    created_at: datetime
    decided_at: datetime | None = None

    @property
    def decided(self) -> bool:
        return self.status is not ApprovalStatus.PENDING

    @property
    def approved(self) -> bool:
        """Whether the call may be made: approved by a user, or expired with an `approve`
        timeout outcome."""
        return self.status is ApprovalStatus.APPROVED or (
            self.status is ApprovalStatus.EXPIRED and self.on_timeout == "approve"
        )
