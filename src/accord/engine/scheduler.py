"""What runs next: a pure function from a plan and the attempts so far to the next actions.

`decide` touches no storage and no clock; the runner loads the state, calls it inside one
transaction and persists the actions. Because it is pure, calling it twice on the same state
gives the same answer, which is what makes advancing an execution idempotent.

Rules (and the decisions behind them):
- A step is *done* when its latest attempt completed or it was skipped; it is *ready* when
  every dependency is done. Ready steps start in plan order (a topological order, so a
  pipeline runs in its listed order) while fewer than `plan.concurrency` attempts are in
  flight.
- A step whose dependencies were *all* skipped is skipped too ("upstream skipped"). A step
  with at least one completed dependency runs (or tests its condition): a merge after two
  conditional branches runs with whichever branch was taken.
- A condition is evaluated over `{"steps": {id: {status, summary, output, data,
  confidence}}, "decisions": {id: {outcome, votes}}}`; false -> skipped, with the reason.
- A failed attempt is retried while `attempt <= max_retries` and the failure is retryable;
  the retry waits `backoff_base_s * 2**(attempt-1)` (capped) after the failure. A review
  that asks for rework counts against the same bound and passes its feedback on.
- When a step fails for good the execution fails, naming the step and the cause; when every
  step is done it completes. While paused nothing new starts (running attempts finish).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.domain.deliverable import last_completed_steps
from accord.domain.enums import StepRunStatus, StepType
from accord.domain.plan import StepPlan, WorkflowPlan

MAX_BACKOFF_S = 60.0


@dataclass(frozen=True, slots=True)
class RunView:
    """What the scheduler needs of one step attempt (a `step_runs` row)."""

    step_id: str
    attempt: int
    status: StepRunStatus
    output: Mapping[str, Any] | None = None
    error: str | None = None
    finished_at: float | None = None
    retryable: bool = True
    rework_feedback: str | None = None
    """Set on a failed attempt whose review asked for changes."""


@dataclass(frozen=True)
class ExecutionState:
    runs: Sequence[RunView]
    now: float
    paused: bool = False
    backoff_base_s: float = 1.0


@dataclass(frozen=True)
class StartAttempt:
    step_id: str
    attempt: int
    not_before: float | None = None
    """Epoch seconds the attempt waits for (retry backoff); None to start at once."""
    feedback: str | None = None
    retry_reason: str | None = None


@dataclass(frozen=True)
class SkipStep:
    step_id: str
    reason: str


@dataclass(frozen=True)
class CompleteExecution:
    final_steps: tuple[str, ...]
    """The last completed steps (see `_final_steps`): their results are the final output."""


@dataclass(frozen=True)
class FailExecution:
    step_id: str
    error: str


Action = StartAttempt | SkipStep | CompleteExecution | FailExecution


def latest_runs(runs: Sequence[RunView]) -> dict[str, RunView]:
    latest: dict[str, RunView] = {}
    for run in runs:
        if run.step_id not in latest or run.attempt > latest[run.step_id].attempt:
            latest[run.step_id] = run
    return latest


def condition_context(plan: WorkflowPlan, runs: Sequence[RunView]) -> dict[str, Any]:
    """The data a condition sees: each step's latest status and result, decision outcomes."""
    steps: dict[str, Any] = {}
    decisions: dict[str, Any] = {}
    for step_id, run in latest_runs(runs).items():
        out = dict(run.output or {}) if run.status is StepRunStatus.COMPLETED else {}
        data = out.get("data") or {}
        steps[step_id] = {
            "status": str(run.status),
            "summary": out.get("summary"),
            "output": out.get("output"),
            "data": data,
            "confidence": out.get("confidence"),
        }
        sp = plan.by_id.get(step_id)
        if sp is not None and sp.step.type is StepType.DECISION and out:
            decisions[step_id] = {"outcome": data.get("outcome"), "votes": data.get("votes")}
    return {"steps": steps, "decisions": decisions}


def backoff_delay(attempt: int, base_s: float) -> float:
    """Seconds to wait before the attempt after `attempt` failed."""
    return min(base_s * 2.0 ** (attempt - 1), MAX_BACKOFF_S)


def decide(plan: WorkflowPlan, state: ExecutionState) -> list[Action]:
    # Sets of step IDs rather than a view per step: this runs at every advance, over every
    # step of the plan.
    latest = latest_runs(state.runs)
    done: set[str] = set()
    skipped: set[str] = set()
    in_flight = 0
    for sp in plan.steps:
        run = latest.get(sp.id)
        if run is None:
            continue
        if run.status in (StepRunStatus.PENDING, StepRunStatus.RUNNING):
            in_flight += 1
        elif run.status in (StepRunStatus.COMPLETED, StepRunStatus.SKIPPED):
            done.add(sp.id)
            if run.status is StepRunStatus.SKIPPED:
                skipped.add(sp.id)

    # Failures first: a step failed for good fails the execution; others get retries.
    retries: list[StartAttempt] = []
    for sp in plan.steps:
        run = latest.get(sp.id)
        if run is None or run.status not in (StepRunStatus.FAILED, StepRunStatus.CANCELLED):
            continue
        if run.status is StepRunStatus.FAILED and run.retryable and run.attempt <= sp.max_retries:
            retries.append(_retry(sp, run, state))
        else:
            return [FailExecution(sp.id, _failure_message(sp, run))]

    if len(done) == len(plan.steps):
        return [CompleteExecution(_final_steps(plan, latest))]

    # Skips cascade within one pass because the plan is in topological order.
    context: dict[str, Any] | None = None
    actions: list[Action] = []
    ready: list[StartAttempt] = []
    for sp in plan.steps:
        if sp.id in latest or not all(d in done for d in sp.deps):
            continue
        if sp.deps and all(d in skipped for d in sp.deps):
            actions.append(SkipStep(sp.id, "every step it depends on was skipped"))
            done.add(sp.id)
            skipped.add(sp.id)
            continue
        if sp.condition is not None:
            if context is None:
                context = condition_context(plan, state.runs)
            if not sp.condition.evaluate(context):
                actions.append(SkipStep(sp.id, f"condition is false: {sp.condition.source}"))
                done.add(sp.id)
                skipped.add(sp.id)
                continue
        ready.append(StartAttempt(sp.id, 1))

    if len(done) == len(plan.steps) and not retries:
        return [*actions, CompleteExecution(_final_steps(plan, latest))]
    if state.paused:
        return actions
    for start in [*retries, *ready]:
        if in_flight >= plan.concurrency:
            break
        actions.append(start)
        in_flight += 1
    return actions


def _retry(sp: StepPlan, run: RunView, state: ExecutionState) -> StartAttempt:
    if run.rework_feedback is not None:
        return StartAttempt(
            sp.id,
            run.attempt + 1,
            None,
            run.rework_feedback,
            f"review asked for changes: {run.rework_feedback}",
        )
    finished = run.finished_at if run.finished_at is not None else state.now
    return StartAttempt(
        sp.id,
        run.attempt + 1,
        finished + backoff_delay(run.attempt, state.backoff_base_s),
        None,
        run.error or "the attempt failed",
    )


def _failure_message(sp: StepPlan, run: RunView) -> str:
    name = f"step {sp.id!r} ({sp.step.name})"
    if run.status is StepRunStatus.CANCELLED:
        return f"{name} was cancelled"
    if run.rework_feedback is not None:
        return (
            f"{name}: the review still asked for changes after {run.attempt} attempts: "
            f"{run.rework_feedback}"
        )
    tries = f" after {run.attempt} attempts" if run.attempt > 1 else ""
    return f"{name} failed{tries}: {run.error or 'no error given'}"


def _final_steps(plan: WorkflowPlan, latest: Mapping[str, RunView]) -> tuple[str, ...]:
    """The last completed steps: those no other completed step depends on. A skipped branch
    leaves no result, so the end of the branch that ran is what counts."""
    return last_completed_steps(
        [sp.id for sp in plan.steps],
        {sp.id: sp.deps for sp in plan.steps},
        {s for s, run in latest.items() if run.status is StepRunStatus.COMPLETED},
    )
