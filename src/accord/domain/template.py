"""The spec's WorkflowTemplate."""

from datetime import datetime

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.enums import TemplateCategory, WorkflowType
from accord.domain.workflow import WorkflowConfiguration


class WorkflowTemplate(CamelModel):
    id: str
    name: str
    description: str
    category: TemplateCategory
    template_definition: WorkflowConfiguration
    required_agent_roles: list[str]
    recommended_agent_count: int = 2
    is_system_template: bool = False
    created_by_user_id: str | None = None
    usage_count: int = 0
    success_rate: float = 0.0
    created_at: datetime
    updated_at: datetime

    workflow_type: WorkflowType = WorkflowType.PIPELINE
    """Extension: the type a workflow made from this template gets."""
    system_key: str | None = None
    """Extension: a stable key that keeps system templates from being installed twice."""


class CreateTemplateRequest(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=10_000)
    category: TemplateCategory
    workflow_type: WorkflowType = WorkflowType.PIPELINE
    template_definition: WorkflowConfiguration
    required_agent_roles: list[str] = Field(default_factory=list)
    recommended_agent_count: int = Field(default=2, ge=1, le=50)


class CreateFromTemplateRequest(CamelModel):
    """Make a workflow from a template; `role_assignments` maps each required role to an agent."""

    participating_agents: list[str]
    role_assignments: dict[str, str] = Field(default_factory=dict)
    coordinator_agent_id: str | None = None
    name: str | None = None
    description: str | None = None
