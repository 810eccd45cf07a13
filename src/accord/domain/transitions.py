"""The legal status transitions of workflows, executions and step runs, as rules in one place.

Every status change in the engine goes through `check_transition`, so an illegal request
(resume a completed execution, start an active workflow) is refused with the current state
named, instead of being decided by scattered ifs.

Decisions recorded here:
- A workflow is `active` while its execution runs, `paused` while it is paused, and becomes
  `completed` or `failed` when it ends. A cancelled execution is no verdict on the
  workflow: it returns to the outcome of its latest run that completed or failed, or to
  `draft` if none has. It never stays `active` after its execution ends.
- A workflow may be started from `draft`, `completed` or `failed`, never from `paused`: a
  paused workflow has an execution waiting to be resumed or cancelled, and starting a second
  one beside it would leave two executions fighting over one workflow status.
- A workflow run as a sub-workflow follows its runs the same way (active while one runs,
  the last to end decides). A delegated sub-task does not move any status: it runs in its
  parent's workflow and is part of the parent's run.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from accord.domain.enums import ExecutionStatus, StepRunStatus, WorkflowStatus
from accord.domain.errors import Conflict, IllegalTransition

if TYPE_CHECKING:
    from accord.domain.execution import WorkflowExecution

W, E, S = WorkflowStatus, ExecutionStatus, StepRunStatus

WORKFLOW_TRANSITIONS: Mapping[WorkflowStatus, frozenset[WorkflowStatus]] = {
    W.DRAFT: frozenset({W.ACTIVE}),
    # -> draft: its first run was cancelled (see above).
    W.ACTIVE: frozenset({W.PAUSED, W.COMPLETED, W.FAILED, W.DRAFT}),
    W.PAUSED: frozenset({W.ACTIVE, W.COMPLETED, W.FAILED, W.DRAFT}),
    W.COMPLETED: frozenset({W.ACTIVE}),
    W.FAILED: frozenset({W.ACTIVE}),
}

EXECUTION_TRANSITIONS: Mapping[ExecutionStatus, frozenset[ExecutionStatus]] = {
    E.PENDING: frozenset({E.RUNNING, E.FAILED, E.CANCELLED}),
    E.RUNNING: frozenset({E.PAUSED, E.COMPLETED, E.FAILED, E.CANCELLED}),
    # Attempts already running finish while paused; if they were the last, it completes.
    E.PAUSED: frozenset({E.RUNNING, E.COMPLETED, E.FAILED, E.CANCELLED}),
    E.COMPLETED: frozenset(),
    E.FAILED: frozenset(),
    E.CANCELLED: frozenset(),
}

STEP_RUN_TRANSITIONS: Mapping[StepRunStatus, frozenset[StepRunStatus]] = {
    S.PENDING: frozenset({S.RUNNING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.SKIPPED: frozenset(),
    S.CANCELLED: frozenset(),
}

WORKFLOW_STARTABLE = frozenset({W.DRAFT, W.COMPLETED, W.FAILED})
"""A new execution may start from these; `paused -> active` is a resume, not a start."""

TERMINAL_EXECUTION = frozenset({E.COMPLETED, E.FAILED, E.CANCELLED})
RETRYABLE_EXECUTION = frozenset({E.FAILED, E.CANCELLED})
"""A retry (a new execution keeping the completed results) may pick up from these."""
TERMINAL_STEP_RUN = frozenset({S.COMPLETED, S.FAILED, S.SKIPPED, S.CANCELLED})

Kind = Literal["workflow", "execution", "step run"]

_RULES: Mapping[str, Mapping[StrEnum, frozenset[StrEnum]]] = {
    "workflow": WORKFLOW_TRANSITIONS,  # type: ignore[dict-item]
    "execution": EXECUTION_TRANSITIONS,  # type: ignore[dict-item]
    "step run": STEP_RUN_TRANSITIONS,  # type: ignore[dict-item]
}


def can_transition(kind: Kind, current: str, requested: str) -> bool:
    rules = _RULES[kind]
    allowed = {str(s) for key, targets in rules.items() if str(key) == current for s in targets}
    return requested in allowed


def check_transition(kind: Kind, resource_id: str, current: str, requested: str) -> None:
    """Raise `IllegalTransition` (naming the current state) unless the change is legal."""
    if not can_transition(kind, str(current), str(requested)):
        raise IllegalTransition(kind, resource_id, str(current), str(requested))


def check_retry(execution: "WorkflowExecution") -> None:
    """Raise `Conflict` unless the execution may be retried: a top-level one that failed or
    was cancelled (a child runs again when its parent is retried)."""
    if execution.parent_execution_id is not None:
        raise Conflict(
            f"execution {execution.id!r} runs inside execution "
            f"{execution.parent_execution_id!r}; retry that one, which runs this step again",
            details={"current": str(execution.status)},
        )
    if execution.status not in RETRYABLE_EXECUTION:
        raise Conflict(
            f"execution #{execution.execution_number} is {execution.status.value}; only a "
            "failed or cancelled execution can be retried (use run again to start afresh)",
            details={"current": str(execution.status)},
        )


def check_workflow_start(workflow_id: str, current: str) -> None:
    """Raise `IllegalTransition` unless a new execution may start the workflow."""
    if current not in WORKFLOW_STARTABLE:
        raise IllegalTransition("workflow", workflow_id, str(current), str(W.ACTIVE))
