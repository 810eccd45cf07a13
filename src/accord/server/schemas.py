"""Request and response bodies of the API that are not domain models as they stand.

Domain models (`accord.domain`) are the API's vocabulary and are returned directly where
their shape is the public one; the models here add or remove what the API must (secrets shown
once, write-only keys, partial updates).
"""

from typing import Any

from pydantic import Field

from accord.domain.agent import ApiToken
from accord.domain.base import CamelModel


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


class TokenCreated(ApiToken):
    token: str
    """The secret: shown this once, stored only as a hash."""
