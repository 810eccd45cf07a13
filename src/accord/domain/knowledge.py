"""The spec's CollaborationKnowledge."""

from datetime import datetime

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.enums import KnowledgeStatus, KnowledgeType


class CollaborationKnowledge(CamelModel):
    id: str
    workflow_id: str

    title: str
    content: str
    knowledge_type: KnowledgeType

    created_by_agent_id: str
    validated_by_agents: list[str] = Field(default_factory=list)

    relevance_score: float = 1.0
    usage_count: int = 0
    tags: list[str] = Field(default_factory=list)

    is_active: bool = True
    superseded_by: str | None = None

    created_at: datetime
    updated_at: datetime

    subject: str | None = None
    """Extension: a newer active entry with the same subject supersedes this one."""
    execution_id: str | None = None
    """Extension: the execution that produced it."""
    source_step_id: str | None = None
    """Extension: the step that produced it."""
    status: KnowledgeStatus = KnowledgeStatus.UNVALIDATED
    """Extension: validated (a teammate or an approving review checked it), unvalidated, or
    rejected (written by a step its review sent back); search ranks them in that order."""
