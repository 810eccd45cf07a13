"""One exception hierarchy with stable codes; the server maps each code to an HTTP status."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    # Imported where used: the CLI imports these errors before knowing whether its command
    # needs pydantic at all (`accord --help` does not).
    from pydantic import BaseModel


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


class InvalidInput(AccordError):
    """Values that cannot be accepted (an empty name, a provider without the URL its kind needs):
    reported like a request that failed validation, each problem with its field and fix."""

    code = "validation_error"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"Invalid input: {lines}", details={"problems": [p.__dict__ for p in self.problems]}
        )

    @classmethod
    def of(cls, field: str, message: str, fix: str) -> "InvalidInput":
        return cls([Problem(field, message, fix)])


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "configuration", "steps", 2, "id")` -> `configuration.steps[2].id`; a query,
    path or header parameter is named by itself."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove this field",
    "json_invalid": "send a valid JSON document",
    "model_attributes_type": "send a JSON object",
    "dict_type": "send a JSON object",
    "list_type": "send a JSON array",
    "string_type": "send a string",
    "int_type": "send an integer",
    "int_parsing": "send an integer",
    "float_type": "send a number",
    "float_parsing": "send a number",
    "bool_type": "send true or false",
    "bool_parsing": "send true or false",
    "enum": "use one of the allowed values",
    "literal_error": "use one of the allowed values",
    "string_too_short": "send a longer value",
    "string_too_long": "send a shorter value",
    "greater_than_equal": "send a larger number",
    "less_than_equal": "send a smaller number",
}


def validation_problems(errors: Sequence[Any]) -> list[Problem]:
    """pydantic's errors as problems: the field's JSON path, what is wrong, and a fix."""
    problems = []
    for err in errors:
        fix = _FIXES.get(err.get("type", ""), "correct this value")
        if err.get("type") in ("enum", "literal_error") and "expected" in err.get("ctx", {}):
            fix = f"use one of: {err['ctx']['expected']}"
        if err.get("type") == "string_too_short" and err.get("ctx", {}).get("min_length") == 1:
            fix = "give a value that is not blank"
        problems.append(Problem(field_path(err.get("loc", ())), err.get("msg", ""), fix))
    return problems


M = TypeVar("M", bound="BaseModel")


def validate_request(model: type[M], values: Mapping[str, Any], /) -> M:
    """`model` built from `values`, or InvalidInput naming each bad field: how callers other
    than the API (the CLI) apply the rules the API applies to the same request."""
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc.errors())) from None
