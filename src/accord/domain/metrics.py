"""The spec's CollaborationMetrics, plus per-agent figures (extension)."""

from pydantic import Field

from accord.domain.base import CamelModel


class AgentFigures(CamelModel):
    agent_id: str
    agent_name: str | None = None
    steps: int = 0
    approvals: int = 0
    rejections: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class CollaborationMetrics(CamelModel):
    total_interactions: int = 0
    average_response_time: float = 0.0
    """Minutes."""
    knowledge_items_created: int = 0
    collaboration_score: float = Field(default=1.0, ge=1, le=10)
    efficiency_rating: float = Field(default=1.0, ge=1, le=10)
    quality_score: float = Field(default=1.0, ge=1, le=10)
    agents: list[AgentFigures] = Field(default_factory=list)
    """Extension: per-agent steps, approvals, tokens and cost."""
