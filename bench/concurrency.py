"""Concurrency benchmark (issue 19 item 3): how many attempts one process holds in flight
while they wait on a model, what that costs in memory, and the overhead per step.

Fan-outs (plan, parallel steps, merge) whose every step waits L = 5 s on its model (the
engine's `LatencyPerformer`, through a durable call as a real model call would be), W parallel
steps in all: one execution up to the largest `maxConcurrency` a workflow may set (64), more
executions side by side beyond it (256: four of 64), so that the engine's own limits decide how
many run at once. Each width runs in a fresh process (on SQLite, embedded mode), so its peak
RSS is its own.

    python bench/run.py --scenario concurrency [--widths 16 64 256] [--json]

in flight = the most attempts waiting on their model at one moment;
overhead per step = (wall - L x 3) / steps, 3 being the critical path (plan, a worker, merge).
Targets: 256 in flight under 400 MB; overhead at most 2 x S1's (bench/run.py, L = 0).
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measures import cpu_seconds, peak_rss_mb

LATENCY_S = 5.0
MAX_CONCURRENCY = 64
"""The most steps of one execution a workflow may run at once (`constraints.maxConcurrency`)."""


@dataclass
class Counting:
    """The `LatencyPerformer`, counting the attempts inside their model call."""

    inner: Any
    now: int = 0
    most: int = 0

    async def assign(self, ctx: Any) -> Any:
        return await self.inner.assign(ctx)

    async def perform(self, ctx: Any) -> Any:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.inner.perform(ctx)
        finally:
            self.now -= 1


async def one_width(width: int, mode: str) -> dict[str, Any]:
    """`mode`: "embedded" (SQLite, attempts started in this process) or "worker" (Postgres,
    attempts taken from the shared queue with the default per-worker limit, as one `accord
    worker` process does)."""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="accord-bench-conc-"))
        if mode == "worker":
            from accord.storage.testing import scratch_postgres_database

            url = stack.enter_context(scratch_postgres_database("accord_bench_concurrency"))
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        return await _measure(width, mode, url, Path(tmp))


async def _measure(width: int, mode: str, url: str, workdir: Path) -> dict[str, Any]:
    from run import fan_out, setup  # bench/run.py: the engine benchmark's workflow setup

    from accord.engine.queue import AttemptQueue
    from accord.engine.service import Engine
    from accord.engine.testing import LatencyPerformer
    from accord.storage.db import Database

    db = Database(url)
    db.upgrade()
    executions = -(-width // MAX_CONCURRENCY)
    workflow_type, steps, critical_path = fan_out(width // executions)
    workflows = [  # one running execution a workflow: a workflow each
        setup(db, workflow_type, steps, max_concurrency=min(width, MAX_CONCURRENCY))
        for _ in range(executions)
    ]
    performer = Counting(LatencyPerformer(latency_s=LATENCY_S))
    engine = Engine(
        db,
        performer,
        queue=AttemptQueue() if mode == "worker" else None,
        executor_id=f"bench-concurrency-{width}",
        state_dir=workdir,
    )
    await engine.start()
    try:
        rss_before = peak_rss_mb()
        started, cpu_started = time.perf_counter(), cpu_seconds()
        started_executions = [
            await engine.start_execution(workflow_id, user_id) for user_id, workflow_id in workflows
        ]
        for execution in started_executions:
            done = await engine.wait(execution.id, 600)
            if done.status != "completed":
                raise SystemExit(f"width {width}: {done.status}: {done.error_message}")
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    finally:
        await engine.stop()
        db.dispose()
    return {
        "scenario": "concurrency",
        "mode": mode,
        "width": width,
        "latency_s": LATENCY_S,
        "executions": executions,
        "steps": len(steps) * executions,
        "in_flight_max": performer.most,
        "wall_s": round(wall, 2),
        "overhead_ms_per_step": round(
            (wall - LATENCY_S * critical_path) / (len(steps) * executions) * 1000, 2
        ),
        "cpu_ms_per_step": round(cpu / (len(steps) * executions) * 1000, 2),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(widths: list[int], as_json: bool, modes: tuple[str, ...] = ("embedded", "worker")) -> None:
    here = Path(__file__).parent
    env = os.environ | {"ACCORD_DBOS_LOG_LEVEL": os.environ.get("ACCORD_DBOS_LOG_LEVEL", "ERROR")}
    for mode, width in ((m, w) for m in modes for w in widths):
        done = subprocess.run(
            [sys.executable, str(here / "concurrency.py"), str(width), mode],
            env=env,
            cwd=here,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"width {width} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if as_json:
            print(json.dumps(result), flush=True)
            continue
        print(
            f"{mode:>8} width {width:>4}: in flight {result['in_flight_max']:>4}  "
            f"wall {result['wall_s']:6.2f} s (ideal {LATENCY_S * 3:.0f} s)  "
            f"overhead {result['overhead_ms_per_step']:7.2f} ms/step  "
            f"CPU {result['cpu_ms_per_step']:6.2f} ms/step  "
            f"peak RSS {result['peak_rss_mb']} MB",
            flush=True,
        )
    if not as_json:
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print("targets: 256 in flight, peak RSS < 400 MB, overhead <= 2 x S1 (bench/run.py)")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(one_width(int(sys.argv[1]), sys.argv[2]))))
