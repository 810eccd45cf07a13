"""The entities the spec references: users, projects, agents and LLM providers."""

from datetime import datetime
from typing import Any

from pydantic import Field

from accord.domain.base import CamelModel
from accord.domain.enums import ProviderKind


class User(CamelModel):
    id: str
    email: str
    display_name: str
    created_at: datetime
    updated_at: datetime


class Project(CamelModel):
    id: str
    user_id: str
    name: str
    description: str = ""
    created_at: datetime
    updated_at: datetime


class ModelPrice(CamelModel):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class LlmProvider(CamelModel):
    """A model endpoint. The API key is stored encrypted and never leaves the server."""

    id: str
    user_id: str
    name: str
    kind: ProviderKind
    base_url: str | None = None
    default_model: str
    has_api_key: bool = False
    price_overrides: dict[str, ModelPrice] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    """Kind-specific knobs, e.g. the offline model's `latencySeconds` and `seed`."""
    created_at: datetime
    updated_at: datetime


class Agent(CamelModel):
    id: str
    user_id: str
    name: str
    role: str
    backstory: str = ""
    skills: list[str] = Field(default_factory=list)
    llm_provider_id: str | None = None
    model: str | None = None
    """Overrides the provider's default model."""
    model_parameters: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class ApiToken(CamelModel):
    id: str
    user_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
