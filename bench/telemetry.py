"""What telemetry costs (issue 18): the hooks every step attempt and model call goes through,
with traces off (the default) and on, and a whole run on the offline model both ways.

    python bench/telemetry.py [--runs 3] [--steps 6]

Prints microseconds per attempt and per model call for the hooks alone, then the median
wall time of a pipeline run with traces off and on (spans to the SDK's in-memory exporter,
batched as with OTLP), and the load average, since the machine may be shared.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import timeit

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import accord
from accord.domain.ports import AttemptOutcome
from accord.telemetry import attempts, metrics, tracing

HOOK_CALLS = 20_000


def hooks_us() -> tuple[float, float]:
    """Microseconds per attempt and per model call spent in the telemetry hooks."""
    done = AttemptOutcome(status="completed")

    def attempt() -> None:
        with attempts.observed_attempt("e", "s", 1, executor_id="bench") as seen:
            attempts.assigned(workflow_id="w", agent_id="a")
            seen.ended(done)

    def model_call() -> None:
        with metrics.model_call("offline", "bench"):
            pass
        metrics.model_usage("offline", "bench", tokens_in=400, tokens_out=60, cost=0.0)

    per_attempt = timeit.timeit(attempt, number=HOOK_CALLS) / HOOK_CALLS * 1e6
    per_call = timeit.timeit(model_call, number=HOOK_CALLS) / HOOK_CALLS * 1e6
    return per_attempt, per_call


def pipeline(steps: int) -> accord.Workflow:
    ada = accord.Agent(name="Ada", role="writer", skills=["writing"])
    return accord.Workflow(
        name="Telemetry bench",
        workflow_type="pipeline",
        agents=[ada],
        steps=[
            accord.Step(
                id=f"s{n}",
                name=f"Part {n}",
                agent=ada,
                depends_on=[f"s{n - 1}"] if n else [],
            )
            for n in range(steps)
        ],
    )


async def run_seconds(workflow: accord.Workflow) -> float:
    began = time.perf_counter()
    result = await workflow.arun()
    assert result.completed, result.error
    return time.perf_counter() - began


async def runs(workflow: accord.Workflow, count: int) -> list[float]:
    await run_seconds(workflow)  # warm-up: imports, DBOS, the database
    return [await run_seconds(workflow) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    os.environ["ACCORD_DATA_DIR"] = tempfile.mkdtemp(prefix="accord-bench-telemetry-")
    os.environ.setdefault("ACCORD_DBOS_LOG_LEVEL", "ERROR")

    off_attempt, off_call = hooks_us()
    exporter = InMemorySpanExporter()
    tracing.install(exporter, include_content=False)
    on_attempt, on_call = hooks_us()
    tracing.shutdown()
    print(f"hooks, traces off: {off_attempt:6.1f} us per attempt, {off_call:5.1f} us per call")
    print(f"hooks, traces on:  {on_attempt:6.1f} us per attempt, {on_call:5.1f} us per call")

    workflow = pipeline(args.steps)
    off = asyncio.run(runs(workflow, args.runs))
    tracing.install(InMemorySpanExporter(), include_content=False)
    try:
        on = asyncio.run(runs(workflow, args.runs))
    finally:
        tracing.shutdown()
    off_s, on_s = statistics.median(off), statistics.median(on)
    print(
        f"{args.steps}-step pipeline, median of {args.runs}: traces off {off_s:.3f} s, "
        f"on {on_s:.3f} s ({(on_s / off_s - 1) * 100:+.1f}%)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
