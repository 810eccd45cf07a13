"""The entities the spec references: users, projects, agents and LLM providers."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints

from accord.domain.base import CamelModel
from accord.domain.enums import ProviderKind
from accord.domain.errors import InvalidInput, Problem

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A name or role as people type it: surrounding spaces dropped, never blank."""

ToolName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_*?\[\]-]+(\.[A-Za-z0-9_*?\[\]./-]+)?$",
    ),
]
"""An allow-list entry: `files`, `files.read_text_file`, `git.*`."""


def same_name(a: str, b: str) -> bool:
    """Whether two names find the same thing: `Ada`, `ada` and ` ADA ` are one name (a user's
    agents, providers and templates each have unique names in this sense)."""
    return a.strip().casefold() == b.strip().casefold()


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


class ProjectCreate(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)


class ProjectUpdate(CamelModel):
    """Only the fields sent change; null leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)


class ModelPrice(CamelModel):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


IN_PROCESS_MODEL_PREFIX = "python:"
"""An agent's `model` that starts with this names a model object given to the Python library
(`python:<system>:<model name>`): only the process holding the object can run it."""

OFFLINE_MODEL_NAME = "accord-offline"
"""The built-in offline model's name (a domain fact: the CLI names it without loading the
model stack)."""


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
    tools: list[str] = Field(default_factory=list)
    """Extension: what the agent may use besides the collaboration tools (its allow-list):
    servers and toolkits (`files`, `workspace`), tools (`files.read_text_file`), patterns."""
    created_at: datetime
    updated_at: datetime


class ApiToken(CamelModel):
    id: str
    user_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None


class ProviderCreate(CamelModel):
    name: Name
    kind: ProviderKind
    default_model: Name
    base_url: str | None = Field(default=None, max_length=2000)
    api_key: str | None = Field(default=None, max_length=10_000)
    """Write-only: stored encrypted, never returned (responses say `hasApiKey`)."""
    price_overrides: dict[str, ModelPrice] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


class ProviderUpdate(CamelModel):
    """Only the fields sent change; `apiKey: null` removes the stored key."""

    name: Name | None = None
    kind: ProviderKind | None = None
    default_model: Name | None = None
    base_url: str | None = Field(default=None, max_length=2000)
    api_key: str | None = Field(default=None, max_length=10_000)
    price_overrides: dict[str, ModelPrice] | None = None
    settings: dict[str, Any] | None = None


class AgentCreate(CamelModel):
    name: Name
    role: Name
    backstory: str = Field(default="", max_length=10_000)
    skills: list[str] = Field(default_factory=list, max_length=100)
    llm_provider_id: str | None = None
    """None: the built-in offline model."""
    model: str | None = Field(default=None, max_length=200)
    model_parameters: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolName] = Field(default_factory=list, max_length=100)
    """The agent's allow-list (see `Agent.tools`)."""


class AgentUpdate(CamelModel):
    """Only the fields sent change; `llmProviderId: null` or `model: null` clears them."""

    name: Name | None = None
    role: Name | None = None
    backstory: str | None = Field(default=None, max_length=10_000)
    skills: list[str] | None = Field(default=None, max_length=100)
    llm_provider_id: str | None = None
    model: str | None = Field(default=None, max_length=200)
    model_parameters: dict[str, Any] | None = None
    tools: list[ToolName] | None = Field(default=None, max_length=100)


@dataclass(frozen=True)
class _NumericSetting:
    low: float
    high: float
    integer: bool = False
    above_low: bool = False
    """The low bound itself is refused (a timeout of 0 would fail every call)."""

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (self.integer and value != int(value)):
            return False
        low_ok = value > self.low if self.above_low else value >= self.low
        return low_ok and value <= self.high

    def describe(self) -> str:
        what = "an integer" if self.integer else "a number"
        low = "above" if self.above_low else "from"
        return f"{what} {low} {self.low:g} to {self.high:g}"


PROVIDER_NUMERIC_SETTINGS: dict[str, _NumericSetting] = {
    "timeoutSeconds": _NumericSetting(0, 3600, above_low=True),
    "connectTimeoutSeconds": _NumericSetting(0, 600, above_low=True),
    "maxTokens": _NumericSetting(1, 1_000_000, integer=True),
    "maxRetries": _NumericSetting(0, 20, integer=True),
    "retryInitialDelaySeconds": _NumericSetting(0, 600),
    "retryMaxDelaySeconds": _NumericSetting(0, 3600),
    "maxRetryAfterSeconds": _NumericSetting(0, 3600),
    "seed": _NumericSetting(-(2**53), 2**53, integer=True),
    "latencySeconds": _NumericSetting(0, 3600),
    "changeRequestRate": _NumericSetting(0, 1),
    "questionRate": _NumericSetting(0, 1),
    "feedbackRate": _NumericSetting(0, 1),
    "delegateRate": _NumericSetting(0, 1),
}
"""The provider settings the llm layer reads as numbers (`accord.llm.models.build_model`),
checked when a provider is saved so that a typo fails then, not at the first model call."""

OUTPUT_MODE_CHOICES = ("auto", "tool", "native", "prompted", "text")
"""The provider's `outputMode` setting (`accord.llm.output_modes`): how its models give
structured answers, or `auto` to detect it per model."""
DETECTED_OUTPUT_MODES = "detectedOutputModes"
"""The provider setting where the team keeps the mode detected per model name:
`{model: {mode, reason, detectedAt}}`."""


def check_provider(kind: ProviderKind, base_url: str | None, settings: dict[str, Any]) -> None:
    """Raise InvalidInput naming each field of a provider that could not work."""
    problems = []
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                Problem(
                    "baseUrl",
                    f"{base_url!r} is not an http:// or https:// URL",
                    "give the server's full URL, e.g. http://127.0.0.1:11434/v1",
                )
            )
    elif kind == ProviderKind.OPENAI_COMPATIBLE:
        problems.append(
            Problem(
                "baseUrl",
                "an openai_compatible provider needs the URL of its server",
                "set baseUrl (CLI: --base-url), e.g. http://127.0.0.1:11434/v1 for Ollama",
            )
        )
    for key, rule in PROVIDER_NUMERIC_SETTINGS.items():
        if key in settings and not rule.accepts(settings[key]):
            problems.append(
                Problem(
                    f"settings.{key}",
                    f"{settings[key]!r} is not {rule.describe()}",
                    f"set {key} to {rule.describe()}, or leave it out for the default",
                )
            )
    if "stream" in settings and not isinstance(settings["stream"], bool):
        problems.append(
            Problem(
                "settings.stream",
                f"{settings['stream']!r} is not true or false",
                "set stream to false to send this provider's requests unstreamed, or leave "
                "it out (streamed while someone watches)",
            )
        )
    mode = settings.get("outputMode")
    if mode is not None and str(mode).strip().lower() not in OUTPUT_MODE_CHOICES:
        problems.append(
            Problem(
                "settings.outputMode",
                f"{mode!r} is not an output mode",
                f"set outputMode to one of {', '.join(OUTPUT_MODE_CHOICES)} (auto detects it)",
            )
        )
    if problems:
        raise InvalidInput(problems)
