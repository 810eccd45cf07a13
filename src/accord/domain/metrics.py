"""The spec's CollaborationMetrics, plus per-agent figures and the evidence behind each score
(extensions)."""

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


class ScoreEvidence(CamelModel):
    """What one score was computed from: the counts, the formula over them, and the recorded
    rows that were deliberately left out of it."""

    counts: dict[str, int] = Field(default_factory=dict)
    formula: str = ""
    not_counted: dict[str, int] = Field(default_factory=dict)
    """Rows the engine writes on its own (assignments, copies of a result's insights) or the
    workflow imposes (votes): recorded, shown, but not the team's choice."""


class MetricsEvidence(CamelModel):
    collaboration: ScoreEvidence = Field(default_factory=ScoreEvidence)
    efficiency: ScoreEvidence = Field(default_factory=ScoreEvidence)
    quality: ScoreEvidence = Field(default_factory=ScoreEvidence)
    executions: int = 0
    """Executions measured: the execution (or the workflow's runs) and their children."""


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
    evidence: MetricsEvidence = Field(default_factory=MetricsEvidence)
    """Extension: the counts and formula behind each score."""
