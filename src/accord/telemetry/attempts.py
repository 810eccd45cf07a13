"""What one step attempt reports while it runs: its span, its log fields, its metrics."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from opentelemetry.trace import Status, StatusCode
from prometheus_client import Counter, Gauge, Histogram

from accord.domain.ports import AttemptOutcome
from accord.telemetry import logs, metrics, tracing

log = logging.getLogger("accord.attempts")


@dataclass
class ObservedAttempt:
    """Handed to the engine while an attempt runs; `ended` with its outcome's status."""

    began: float = field(default_factory=time.perf_counter)
    status: str = "stopped"
    error: str | None = None

    def ended(self, outcome: AttemptOutcome | None) -> None:
        """`None`: the attempt did not run (its execution ended, paused, or it was cancelled)."""
        if outcome is not None:
            self.status, self.error = outcome.status, outcome.error


@contextmanager
def observed_attempt(
    execution_id: str, step_id: str, attempt: int, *, executor_id: str
) -> Iterator[ObservedAttempt]:
    seen = ObservedAttempt()
    active = _active(executor_id)
    active.inc()
    try:
        with (
            logs.attempt_fields(execution_id, step_id, attempt),
            tracing.attempt_span(execution_id, step_id, attempt, executor_id=executor_id) as span,
        ):
            try:
                yield seen
            finally:
                if span is not None:
                    span.set_attribute("accord.step.status", seen.status)
                    if seen.status == "failed":
                        span.set_status(Status(StatusCode.ERROR, seen.error or "failed"))
                if log.isEnabledFor(logging.INFO):
                    # Inside the attempt's fields and span, so the line names both.
                    log.info(
                        "step %s attempt %d %s after %.2f s%s",
                        step_id,
                        attempt,
                        seen.status,
                        time.perf_counter() - seen.began,
                        f": {seen.error}" if seen.error else "",
                    )
    finally:
        active.dec()
        count, seconds = _ended(seen.status)
        count.inc()
        seconds.observe(time.perf_counter() - seen.began)


@cache
def _active(executor_id: str) -> Gauge:
    return metrics.ACTIVE_ATTEMPTS.labels(executor_id)


@cache
def _ended(status: str) -> tuple[Counter, Histogram]:
    return metrics.STEP_ATTEMPTS.labels(status), metrics.STEP_ATTEMPT_SECONDS.labels(status)


def assigned(*, workflow_id: str, agent_id: str | None) -> None:
    """The attempt's workflow and agent, once known: on its span and its log lines."""
    fields = logs.current_fields()
    if fields is not None and agent_id is not None:
        fields["agentId"] = agent_id
    tracing.note(**{"workflow.id": workflow_id, "agent.id": agent_id})
