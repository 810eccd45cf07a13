"""One exception hierarchy with stable codes; the server maps each code to an HTTP status."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a JSON path like `configuration.steps[2].dependsOn`),
    what, and how to fix it."""

    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.fix})"


class AccordError(Exception):
    """Base of every error a user can cause or meet. `code` is stable; `message` is for people."""

    code = "accord_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidDefinition(AccordError):
    """A workflow or template definition that cannot run; `problems` lists every fault found."""

    code = "invalid_definition"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = problems
        lines = "; ".join(str(p) for p in problems)
        super().__init__(
            f"Invalid workflow definition: {lines}",
            details={"problems": [p.__dict__ for p in problems]},
        )


class NotFound(AccordError):
    """Missing, or owned by another user: both look the same from outside."""

    code = "not_found"

    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(
            f"{kind} {resource_id!r} not found", details={"kind": kind, "id": resource_id}
        )


class IllegalTransition(AccordError):
    """A status change that the current state does not allow."""

    code = "illegal_transition"

    def __init__(self, kind: str, resource_id: str, current: str, requested: str) -> None:
        super().__init__(
            f"Cannot move {kind} {resource_id!r} from {current!r} to {requested!r}",
            details={"kind": kind, "id": resource_id, "current": current, "requested": requested},
        )
        self.current = current
        self.requested = requested


class BudgetExceeded(AccordError):
    code = "budget_exceeded"


class ModelFailure(AccordError):
    """A model call that failed past its retries, or whose output never validated."""

    code = "model_failure"


class Unauthorized(AccordError):
    code = "unauthorized"


class Conflict(AccordError):
    code = "conflict"
