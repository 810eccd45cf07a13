"""The library's exceptions: `ValidationError` for a workflow or request that cannot be
accepted, `ApiError` for any other error a server answers with."""

from collections.abc import Sequence
from typing import Any

from accord.domain.errors import AccordError, InvalidDefinition, Problem
from accord.domain.workflow_file import FileProblem


class ValidationError(InvalidDefinition):
    """Everything wrong with a workflow (or a request to a server), found at once.

    `problems` lists each one with `field` (a path like `steps[1].dependsOn`), `message`
    and `fix`, exactly as `accord validate` and the API report them; a problem in a file
    also has `source` and `line`. `code` is the API's (`invalid_definition`, or
    `validation_error` for a request's fields); `status` the HTTP status when a server
    answered with it."""

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        subject: str = "workflow",
        code: str = "invalid_definition",
        status: int | None = None,
    ) -> None:
        super().__init__(list(problems))
        self.code = code
        self.status = status
        count = len(self.problems)
        lines = [f"Invalid {subject} ({count} problem{'s' * (count != 1)}):"]
        for problem in self.problems:
            where = ""
            if isinstance(problem, FileProblem) and problem.line:
                where = f"{problem.source}:{problem.line}: "
            field = f"{problem.field}: " if problem.field else ""
            lines += [f"  {where}{field}{problem.message}", f"    fix: {problem.fix}"]
        self.message = "\n".join(lines)
        self.args = (self.message,)


class ApiError(AccordError):
    """An error answer from an Accord server: `status` (HTTP), the API's stable `code`
    (`not_found`, `illegal_transition`, `conflict`, `unauthorized`, ...), its `message`,
    and `details` (e.g. `current` for an illegal transition)."""

    def __init__(
        self, message: str, *, status: int, code: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.status} {self.code})"
