"""What the engine's transactions answer: an attempt's start, and an advance's result."""

from dataclasses import dataclass, field
from typing import Any, Literal

from accord.engine.attempt_keys import AttemptKey


@dataclass(frozen=True)
class AttemptStart:
    """What `begin_attempt` found: whether to go on, and the attempt's inputs."""

    # "wait": not before a time, or paused; "stop": ended or cancelled
    status: Literal["go", "wait", "stop"]
    not_before: float | None = None
    step_run_id: str = ""
    feedback: str | None = None
    dependency_results: dict[str, Any] | None = None
    execution_context: dict[str, Any] | None = None
    workflow_id: str = ""
    user_id: str = ""
    depth: int = 0
    agent_id: str | None = None
    """The agent of an attempt marked running before (a replay after a crash)."""


@dataclass(frozen=True)
class AdvanceResult:
    dispatch: list[AttemptKey]
    finished: bool
    """True when this advance ended the execution (completed or failed)."""
    cancel: list[AttemptKey]
    """Attempts still in flight that the end of the execution cancelled."""
    starts: dict[AttemptKey, "AttemptStart"] = field(default_factory=dict)
    """The inputs of dispatched attempts that may start at once, read in this transaction,
    so the attempt need not read them again (it still checks, when it marks itself
    running, that its execution has not ended or paused meanwhile)."""
