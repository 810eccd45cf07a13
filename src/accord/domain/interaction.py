"""The spec's AgentInteraction."""

from datetime import datetime
from typing import Any

from accord.domain.base import CamelModel
from accord.domain.enums import InteractionType, QuestionStatus


class AgentInteraction(CamelModel):
    id: str
    workflow_execution_id: str

    from_agent_id: str
    to_agent_id: str | None = None

    interaction_type: InteractionType
    message: str
    context_data: dict[str, Any] | None = None

    related_step_id: str | None = None
    related_task_id: str | None = None

    requires_response: bool = False
    response_deadline: datetime | None = None
    response_received: bool = False
    response_message: str | None = None
    response_data: Any = None

    created_at: datetime
    responded_at: datetime | None = None

    to_user_id: str | None = None
    """Extension: a question put to the user rather than to an agent."""
    response_status: QuestionStatus | None = None
    """Extension: pending, answered or expired, for interactions that require a response."""
