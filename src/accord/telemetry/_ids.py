"""The SDK's ID generator, told once in a while which IDs to give (imported only when tracing
is on: it needs the OpenTelemetry SDK)."""

from contextvars import ContextVar

from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator


class ExecutionIds(IdGenerator):
    """Random IDs, except for an execution's own span, whose IDs its attempts' spans already
    point to (see `tracing.end_execution`)."""

    def __init__(self, forced: ContextVar[tuple[int, int] | None]) -> None:
        self._forced = forced
        self._random = RandomIdGenerator()

    def generate_trace_id(self) -> int:
        forced = self._forced.get()
        return forced[0] if forced else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        forced = self._forced.get()
        return forced[1] if forced else self._random.generate_span_id()

    def is_trace_id_random(self) -> bool:
        return True  # UUID4 execution IDs are random too
