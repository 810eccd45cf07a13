"""Request and response bodies of the API that are not domain models as they stand.

Domain models (`accord.domain`) are the API's vocabulary and are returned directly where
their shape is the public one; the models here add or remove what the API must (secrets shown
once, partial updates). Request models the CLI applies too (`AgentCreate`, `ProviderCreate`)
live in the domain, so both check the same rules.
"""

from datetime import datetime
from typing import Any

from pydantic import Field

from accord.domain.access import Scope
from accord.domain.agent import ApiToken
from accord.domain.base import CamelModel
from accord.domain.enums import TemplateCategory, TriggerReason, WorkflowType
from accord.domain.execution import StepRun, WorkflowExecution
from accord.domain.workflow import WorkflowConfiguration


class ErrorProblem(CamelModel):
    field: str
    message: str
    fix: str


class ErrorInfo(CamelModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(CamelModel):
    """Every error: `{"error": {code, message, details}}`; 422s list `details.problems`."""

    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (401, "Not signed in, or the token is unknown or expired"),
        (403, "The role or the token's scope does not allow this (`x-permission` says what)"),
        (404, "Missing, or another user's"),
        (409, "Not allowed in the current state (`details.current`)"),
        (422, "Invalid input (`details.problems` names each field and its fix)"),
    ]
}
"""Documented on every API router, so the OpenAPI document states the real error shape."""


class UserUpdate(CamelModel):
    display_name: str = Field(min_length=1, max_length=200)


class TokenCreate(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    scope: Scope = Scope.ADMIN
    """`read` (watch), `run` (also start, control, answer, approve) or `admin` (everything
    the user may do)."""


class SignIn(CamelModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class SignInMethods(CamelModel):
    password: bool
    oidc: bool
    """Sign in through the OpenID Connect provider at `/auth/oidc/login`."""


class FirstAdministrator(CamelModel):
    """The first user of a server without any, made with the setup token it printed."""

    setup_token: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class UserCreate(CamelModel):
    email: str = Field(min_length=3, max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=1000)
    """None: the user signs in through a login link or a token until a password is set."""
    is_admin: bool = False


class UserAdminUpdate(CamelModel):
    """Only the fields sent change."""

    disabled: bool | None = None
    is_admin: bool | None = None
    password: str | None = Field(default=None, max_length=1000)
    """A new password (their browser sessions end)."""


class SessionInfo(CamelModel):
    """A browser session of the user's."""

    id: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    current: bool
    """The session this request came with."""


class TokenCreated(ApiToken):
    token: str
    """The secret: shown this once, stored only as a hash."""


class ValidationReport(CamelModel):
    """The answer of `POST /workflows/validate`: whether the definition could be saved."""

    valid: bool
    problems: list[ErrorProblem] = Field(default_factory=list)


class ExecutionStart(CamelModel):
    trigger_reason: TriggerReason = TriggerReason.MANUAL
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Shared context every step of the execution sees."""
    workspace: str | None = None
    """An absolute folder (on the server) this execution works in, instead of the one its
    workflow names or a fresh one of its own."""


class ExecutionDetail(WorkflowExecution):
    """An execution with every step attempt, oldest first."""

    step_runs: list[StepRun] = Field(default_factory=list)


class WorkflowYaml(CamelModel):
    """A workflow file's text, as `accord run` takes it."""

    yaml: str = Field(min_length=1, max_length=2_000_000)


class AnswerRequest(CamelModel):
    message: str = Field(min_length=1, max_length=20_000)
    data: Any = None


class ApprovalDecision(CamelModel):
    reason: str | None = Field(default=None, min_length=1, max_length=2_000)
    """Why: for a rejection, the model reads it as the tool's answer."""


class ValidationRequest(CamelModel):
    agent_id: str = Field(min_length=1)


class TemplateUpdate(CamelModel):
    """Only the fields sent change; the result is validated whole."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    category: TemplateCategory | None = None
    workflow_type: WorkflowType | None = None
    template_definition: WorkflowConfiguration | None = None
    required_agent_roles: list[str] | None = None
    recommended_agent_count: int | None = Field(default=None, ge=1, le=50)


class SaveAsTemplate(CamelModel):
    category: TemplateCategory = TemplateCategory.DEVELOPMENT
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
