"""Prometheus metrics of this process (`prometheus-client`'s default registry).

Each process counts what it does itself (the attempts it ran, the model and tool calls they
made, the notifications it delivered, its heartbeats), so summing over every process's
`/metrics` gives the totals. What is best read from the database (executions by status, the
queue, approvals waiting, each worker's last heartbeat) is collected at scrape time by
`accord serve` only (`accord.server.probes`), so it is counted once.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

STEP_ATTEMPTS = Counter(
    "accord_step_attempts",
    "Step attempts this process ran, by outcome (completed, failed, or stopped: ended before "
    "it ran because its execution ended or was paused, or it was cancelled).",
    ["status"],
)
STEP_ATTEMPT_SECONDS = Histogram(
    "accord_step_attempt_duration_seconds",
    "How long the step attempts this process ran took, by outcome.",
    ["status"],
    buckets=_SECONDS,
)
ACTIVE_ATTEMPTS = Gauge(
    "accord_active_attempts",
    "Step attempts running in this process now.",
    ["executor_id"],
)
MODEL_CALLS = Counter(
    "accord_model_calls",
    "Model requests made (a replay after a crash reads the recorded answer and is not "
    "counted), by provider, model and outcome (ok, error).",
    ["provider", "model", "outcome"],
)
MODEL_CALL_SECONDS = Histogram(
    "accord_model_call_duration_seconds",
    "Latency of model requests, retries included, by provider and model.",
    ["provider", "model"],
    buckets=_SECONDS,
)
MODEL_TOKENS = Counter(
    "accord_model_tokens",
    "Tokens of model requests, by provider, model and direction (input, output).",
    ["provider", "model", "direction"],
)
MODEL_COST = Counter(
    "accord_model_cost_usd",
    "US dollars spent on model requests, by provider and model.",
    ["provider", "model"],
)
TOOL_CALLS = Counter(
    "accord_tool_calls",
    "Calls of MCP and built-in tools (workspace, ...), by toolset, tool and outcome (ok, "
    "error: the tool failed; refused: not allowed, over a limit or rejected by a person).",
    ["toolset", "tool", "outcome"],
)
INTERACTIONS = Counter(
    "accord_interactions",
    "Interactions agents recorded (questions, answers, feedback, delegations, ...), by type.",
    ["type"],
)
NOTIFICATIONS = Counter(
    "accord_notification_deliveries",
    "Outbound notification delivery tries, by outcome (delivered, failed).",
    ["outcome"],
)
HEARTBEATS = Counter(
    "accord_heartbeats",
    "Heartbeats this process wrote (each says it is alive and which attempts it runs).",
    ["role"],
)
LAST_HEARTBEAT = Gauge(
    "accord_last_heartbeat_timestamp_seconds",
    "When this process last wrote its heartbeat (Unix time).",
    ["role"],
)


@dataclass(frozen=True)
class _ModelSeries:
    ok: Counter
    errors: Counter
    seconds: Histogram
    tokens_in: Counter
    tokens_out: Counter
    cost: Counter


@cache
def _model_series(provider: str, model: str) -> _ModelSeries:
    """The labelled series of one model, looked up once: a call then costs a few increments."""
    return _ModelSeries(
        ok=MODEL_CALLS.labels(provider, model, "ok"),
        errors=MODEL_CALLS.labels(provider, model, "error"),
        seconds=MODEL_CALL_SECONDS.labels(provider, model),
        tokens_in=MODEL_TOKENS.labels(provider, model, "input"),
        tokens_out=MODEL_TOKENS.labels(provider, model, "output"),
        cost=MODEL_COST.labels(provider, model),
    )


@contextmanager
def model_call(provider: str, model: str) -> Iterator[None]:
    """Count one model request and its latency; an exception counts as an error."""
    series = _model_series(provider, model)
    began = time.perf_counter()
    try:
        yield
    except Exception:  # a cancelled request is no provider error
        series.errors.inc()
        raise
    finally:
        series.seconds.observe(time.perf_counter() - began)
    series.ok.inc()


def model_usage(provider: str, model: str, *, tokens_in: int, tokens_out: int, cost: float) -> None:
    series = _model_series(provider, model)
    series.tokens_in.inc(tokens_in)
    series.tokens_out.inc(tokens_out)
    series.cost.inc(cost)


def heartbeat(role: str) -> None:
    HEARTBEATS.labels(role).inc()
    LAST_HEARTBEAT.labels(role).set(time.time())
