"""OpenTelemetry traces: one trace per execution, across every process that runs its steps.

Off unless the standard OTLP variables name a receiver (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf`, the
default, or `grpc`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off
again). Off, nothing of the OpenTelemetry SDK is imported and every function here returns
at its first line.

The trace of an execution is derived from its ID, not stored: its trace ID is the
execution's UUID (so `7d1c...` in Accord is trace `7d1c...` in Jaeger or Phoenix) and the
execution's own span has an ID hashed from it. Any process (the server, each worker) that
runs an attempt of the execution computes the same parent for the attempt's span, so the
trace continues across processes without a column to keep it in. The execution's span itself
is written by the process that ends the execution, from its recorded start to its end.

Under each step attempt's span, pydantic-ai's own instrumentation (`Agent.instrument_all`)
adds the agent runs, each model request with the GenAI semantic conventions
(`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, ...) and each
tool call; Accord adds a span for each interaction an agent records. Prompts, completions and
tool arguments are left out unless `ACCORD_TRACE_CONTENT=true`.
"""

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from accord.domain.errors import AccordError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

CONTENT_ENV = "ACCORD_TRACE_CONTENT"
"""`true`: spans carry prompts, completions and tool arguments and results (off by default:
they may hold what users would not send to a tracing backend)."""
SERVICE_NAME = "accord"
TRACER_NAME = "accord"

_forced_ids: ContextVar[tuple[int, int] | None] = ContextVar("accord_forced_ids", default=None)


@dataclass
class _Tracing:
    provider: "TracerProvider"
    tracer: trace.Tracer


_tracing: _Tracing | None = None


def enabled() -> bool:
    return _tracing is not None


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for traces (the standard OTel variables)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Start exporting traces if the environment asks for it (idempotent); True when on."""
    if _tracing is not None:
        return True
    env = os.environ if environ is None else environ
    if not wanted(env):
        return False
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    exporter: SpanExporter
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, TLS: from the OTEL_* variables
    elif protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        exporter = HttpSpanExporter()
    else:
        raise AccordError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported: set it to "
            "http/protobuf (the default) or grpc"
        )
    include_content = env.get(CONTENT_ENV, "").strip().lower() in ("1", "true", "yes")
    install(exporter, include_content=include_content)
    return True


def install(exporter: "SpanExporter", *, include_content: bool, batch: bool = True) -> None:
    """Export spans to `exporter` (a batch in the background; `batch=False` exports each span
    as it ends, which tests use with the SDK's in-memory exporter)."""
    global _tracing
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from pydantic_ai import Agent, InstrumentationSettings

    from accord.telemetry._ids import ExecutionIds

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = TracerProvider(resource=resource, id_generator=ExecutionIds(_forced_ids))
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    # Our own provider, not the global one: Accord embedded in a program that traces
    # elsewhere keeps out of its way.
    Agent.instrument_all(
        InstrumentationSettings(
            tracer_provider=provider,
            include_content=include_content,
            include_binary_content=include_content,
            # Every tool's whole schema on every request span: large, and the GenAI
            # `gen_ai.tool.definitions` attribute names the tools anyway.
            include_model_request_parameters=False,
        )
    )
    _tracing = _Tracing(provider=provider, tracer=provider.get_tracer(TRACER_NAME))


def shutdown() -> None:
    """Export what is left and stop tracing (the end of a process, or of a test)."""
    global _tracing
    if _tracing is None:
        return
    from pydantic_ai import Agent

    Agent.instrument_all(False)
    _tracing.provider.shutdown()  # flushes the batch first
    _tracing = None


def flush() -> None:
    if _tracing is not None:
        _tracing.provider.force_flush()


# --- the execution's trace --------------------------------------------------------------------


def execution_trace_id(execution_id: str) -> int:
    """The trace ID of an execution: its UUID as a number (a hash for any other ID)."""
    try:
        return uuid.UUID(execution_id).int
    except ValueError:
        return int.from_bytes(hashlib.sha256(execution_id.encode()).digest()[:16], "big")


def execution_span_id(execution_id: str) -> int:
    return int.from_bytes(hashlib.sha256(b"span:" + execution_id.encode()).digest()[:8], "big") or 1


def execution_context(execution_id: str) -> SpanContext:
    """The span context of an execution's own span, the parent of its attempts' spans."""
    return SpanContext(
        trace_id=execution_trace_id(execution_id),
        span_id=execution_span_id(execution_id),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


@contextlib.contextmanager
def attempt_span(
    execution_id: str, step_id: str, attempt: int, *, executor_id: str
) -> Iterator[trace.Span | None]:
    """The span of one step attempt, current while it runs (None when tracing is off)."""
    if _tracing is None:
        yield None
        return
    parent = trace.set_span_in_context(NonRecordingSpan(execution_context(execution_id)))
    with _tracing.tracer.start_as_current_span(
        f"step {step_id}",
        context=parent,
        kind=SpanKind.INTERNAL,
        attributes={
            "accord.execution.id": execution_id,
            "accord.step.id": step_id,
            "accord.step.attempt": attempt,
            "accord.executor.id": executor_id,
        },
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        yield span


def note(**attributes: str | int | float | bool | None) -> None:
    """Add `accord.<name>` attributes to the current span (the attempt's, in the engine)."""
    if _tracing is None:
        return
    span = trace.get_current_span()
    for name, value in attributes.items():
        if value is not None:
            span.set_attribute(f"accord.{name}", value)


def interaction(
    kind: str, *, sender: str, recipient: str | None, step_id: str, requires_response: bool
) -> None:
    """An interaction an agent recorded, as a span of no duration under what made it (the
    tool call of the asking agent, say)."""
    if _tracing is None:
        return
    attributes: dict[str, Any] = {
        "accord.interaction.type": kind,
        "accord.interaction.from_agent": sender,
        "accord.interaction.requires_response": requires_response,
        "accord.step.id": step_id,
    }
    if recipient is not None:
        attributes["accord.interaction.to_agent"] = recipient
    _tracing.tracer.start_span(f"interaction {kind}", attributes=attributes).end()


def execution_started(execution_id: str, *, workflow_id: str, trigger_reason: str) -> None:
    """The start of an execution (the server's part, on a server with workers), as a span of
    no duration in the execution's trace."""
    if _tracing is None:
        return
    parent = trace.set_span_in_context(NonRecordingSpan(execution_context(execution_id)))
    _tracing.tracer.start_span(
        "start",
        context=parent,
        attributes={
            "accord.execution.id": execution_id,
            "accord.workflow.id": workflow_id,
            "accord.execution.trigger_reason": trigger_reason,
        },
    ).end()


def end_execution(
    execution_id: str,
    *,
    workflow_id: str,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
    parent_execution_id: str | None,
    error: str | None,
) -> None:
    """Write the execution's own span, with the IDs its attempts' spans already point to."""
    if _tracing is None:
        return
    from opentelemetry.trace import Status, StatusCode

    attributes: dict[str, Any] = {
        "accord.execution.id": execution_id,
        "accord.workflow.id": workflow_id,
        "accord.execution.status": status,
    }
    links = []
    if parent_execution_id is not None:  # a sub-task or sub-workflow: its own trace, linked
        links.append(Link(execution_context(parent_execution_id)))
        attributes["accord.execution.parent_id"] = parent_execution_id
    token = _forced_ids.set((execution_trace_id(execution_id), execution_span_id(execution_id)))
    try:
        span = _tracing.tracer.start_span(
            "execution",
            context=trace.set_span_in_context(trace.INVALID_SPAN),  # a root: no parent
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            links=links,
            start_time=_nanos(started_at),
        )
    finally:
        _forced_ids.reset(token)
    if status == "failed":
        span.set_status(Status(StatusCode.ERROR, error or "failed"))
    span.end(end_time=_nanos(ended_at) if ended_at else None)


def current_trace_ids() -> tuple[str, str] | None:
    """(trace ID, span ID) in hex of the current span, for log lines; None outside a trace."""
    if _tracing is None:
        return None
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
