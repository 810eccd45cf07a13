"""Scale benchmark (issue 8 item 4): throughput of worker processes sharing one Postgres.

One hundred executions of S2 (a planning step, sixteen independent steps, a merge step) at
L = 0.5 s start at once; N worker processes (`python -m accord.engine.testing`, the loop
`accord worker` runs, with the engine's test performer) take their attempts from the queue,
each at most `ACCORD_WORKER_CONCURRENCY` at a time. This process starts the executions as an
API-only server does (it runs no steps) and waits for the last to end. Each worker count
gets a fresh database.

    python bench/run.py --scenario scale                 # 1, 2 and 4 workers
    python bench/run.py --scenario scale --workers 4     # one count
    python bench/run.py --scenario scale --json

steps/s = all steps / makespan; makespan = first start to last end; scaling efficiency =
steps/s with N workers / (N x steps/s with one worker), when one worker was measured too.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measures import peak_rss_mb
from sqlalchemy import func, select

from accord.engine.queue import AttemptQueue
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer, stop_all
from accord.storage.db import Database
from accord.storage.tables import workflow_executions
from accord.storage.testing import scratch_postgres_database

EXECUTIONS = 100
LATENCY_S = 0.5
WIDTH = 16
STEPS_PER_EXECUTION = WIDTH + 2
WORKER_CONCURRENCY = 8


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "accord.engine.testing", f"bench-worker-{i}", str(LATENCY_S)],
            env=env,
            stdout=subprocess.PIPE,
        )
        for i in range(count)
    ]
    for worker in workers:
        if worker.stdout is None or worker.stdout.readline().strip() != b"ready":
            raise SystemExit("a benchmark worker did not start")
    return workers


def unfinished(db: Database) -> int:
    with db.read_session() as s:
        return s.execute(
            select(func.count()).where(
                workflow_executions.c.status.in_(["pending", "running", "paused"])
            )
        ).scalar_one()


async def measure(workers: int) -> dict[str, Any]:
    from run import fan_out, setup  # the engine benchmark's S2 and its rows

    workflow_type, steps, _ = fan_out(WIDTH)
    with (
        scratch_postgres_database("accord_bench") as url,
        tempfile.TemporaryDirectory(prefix="accord-scale-") as tmp,
    ):
        db = Database(url)
        db.upgrade()
        # One workflow per execution: a workflow runs one execution at a time.
        made = [setup(db, workflow_type, steps) for _ in range(EXECUTIONS)]
        env = {
            **os.environ,
            "ACCORD_DATABASE_URL": url,
            "ACCORD_DATA_DIR": tmp,
            "ACCORD_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "ACCORD_DBOS_LOG_LEVEL": "ERROR",
        }
        processes = start_workers(workers, env)
        engine = Engine(
            db,
            LatencyPerformer(latency_s=LATENCY_S),
            executor_id="bench-starter",
            state_dir=Path(tmp),
            queue=AttemptQueue(run_steps=False, worker_concurrency=WORKER_CONCURRENCY),
            role="serve",
        )
        await engine.start()
        try:
            started = time.perf_counter()
            for user_id, workflow_id in made:
                await engine.start_execution(workflow_id, user_id)
            while await asyncio.to_thread(unfinished, db):
                await asyncio.sleep(0.1)
            makespan = time.perf_counter() - started
        finally:
            await engine.stop()
            stop_all(processes, timeout_s=30)
        with db.read_session() as s:
            statuses = s.execute(
                select(workflow_executions.c.status, func.count()).group_by(
                    workflow_executions.c.status
                )
            ).all()
        db.dispose()
    if dict(statuses) != {"completed": EXECUTIONS}:
        raise SystemExit(f"not every execution completed: {dict(statuses)}")
    total = EXECUTIONS * STEPS_PER_EXECUTION
    return {
        "scenario": "scale",
        "latency_s": LATENCY_S,
        "workers": workers,
        "worker_concurrency": WORKER_CONCURRENCY,
        "executions": EXECUTIONS,
        "steps": total,
        "makespan_s": round(makespan, 3),
        "steps_per_s": round(total / makespan, 2),
        "scaling_efficiency": None,
        "peak_rss_mb": peak_rss_mb(),
    }


async def main(worker_counts: list[int], as_json: bool) -> list[dict[str, Any]]:
    results = []
    for count in worker_counts:
        result = await measure(count)
        one = next((r for r in results if r["workers"] == 1), None)
        if one is not None:
            result["scaling_efficiency"] = round(
                result["steps_per_s"] / (count * one["steps_per_s"]), 3
            )
        results.append(result)
        if as_json:
            print(json.dumps(result), flush=True)
        else:
            efficiency = result["scaling_efficiency"]
            print(
                f"scale workers={count} (x{WORKER_CONCURRENCY} at once) "
                f"executions={EXECUTIONS} steps={result['steps']} "
                f"makespan={result['makespan_s']:.1f}s steps/s={result['steps_per_s']:.1f} "
                f"efficiency={'-' if efficiency is None else f'{efficiency:.2f}'}",
                flush=True,
            )
    if not as_json and len(results) > 1 and results[0]["workers"] == 1:
        last = results[-1]
        print(
            f"throughput {last['workers']} workers / 1 worker: "
            f"{last['steps_per_s'] / results[0]['steps_per_s']:.2f}x (target >= 3x from 1 to 4)"
        )
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return results
