"""What an agent returns for a step attempt, a review and a vote: schemas, not prose."""

from typing import Any, Literal

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.enums import KnowledgeType


class Insight(CamelModel):
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1)
    knowledge_type: KnowledgeType = KnowledgeType.INSIGHT
    tags: list[str] = Field(default_factory=list)
    subject: str | None = None


class StepResult(CamelModel):
    """The structured answer to one step attempt, validated before the engine accepts it."""

    summary: str = Field(min_length=1, description="One or two sentences: what was done.")
    output: str = Field(min_length=1, description="The deliverable itself, in markdown.")
    insights: list[Insight] = Field(
        default_factory=list, description="What the team should remember for later steps."
    )
    questions: list[str] = Field(
        default_factory=list, description="Open questions or concerns for the team."
    )
    confidence: float = Field(default=0.8, ge=0, le=1)
    data: dict[str, Any] = Field(
        default_factory=dict, description="Machine-readable results that conditions can test."
    )


class ReviewVerdict(CamelModel):
    verdict: Literal["approve", "request_changes"]
    feedback: str = Field(min_length=1, description="What is good, and what must change.")
    unmet_criteria: list[str] = Field(default_factory=list)


class Vote(CamelModel):
    choice: str = Field(min_length=1)
    rationale: str = Field(min_length=1)
