"""DBOS floor (issue 3): what S2 costs when DBOS's own records are all there is.

DESIGN.md makes every model call a DBOS step (so a crash never bills a finished call again)
and every step attempt a DBOS workflow. This runs S2's shape (a planning call, sixteen calls
at once, a merging call, each taking L) with nothing but those records, on the engine's own
DBOS settings (SQLite, WAL, the take-turns lock): no Accord tables, no events, no scheduling.
Whatever S2 costs here, the engine costs at least that.

- `floor-attempts`: as the engine runs it, one DBOS workflow per attempt, each with one step.
- `floor-steps`: the least any design that records each call as a DBOS step could write: one
  workflow for the whole execution, its sixteen calls as concurrent steps at step IDs drawn
  in order (`DBOS.reserve_step`).

    python bench/run.py --scenario floor [--json]

Same figures as the engine benchmark (median of five timed runs after one warm-up).
"""

import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from measures import peak_rss_mb, per_step

from accord.engine.dbos_runtime import sqlite_system_engine  # the engine's DBOS settings

TIMED_RUNS = 5
WIDTH = 16
STEPS = WIDTH + 2
CRITICAL_PATH = 3


async def _call(latency_s: float) -> dict[str, str]:
    await asyncio.sleep(latency_s)
    return {"summary": "done"}


@DBOS.workflow(name="floor_attempt")
async def _attempt(latency_s: float) -> None:
    await DBOS.run_step_async({"name": "model"}, _call, latency_s)


@DBOS.workflow(name="floor_execution")
async def _execution(latency_s: float) -> None:
    await DBOS.run_step_async({"name": "plan"}, _call, latency_s)
    fan_out = [DBOS.reserve_step() for _ in range(WIDTH)]
    await asyncio.gather(*(r.run_async({"name": "model"}, _call, latency_s) for r in fan_out))
    await DBOS.run_step_async({"name": "merge"}, _call, latency_s)


async def _start(workflow: Any, latency_s: float) -> Any:
    with SetWorkflowID(str(uuid.uuid4())):
        return await DBOS.start_workflow_async(workflow, latency_s)


async def _s2_as_attempts(latency_s: float) -> None:
    """Plan, then sixteen attempts started one after another (as the engine's dispatch
    starts them), then merge."""
    await (await _start(_attempt, latency_s)).get_result()
    handles = [await _start(_attempt, latency_s) for _ in range(WIDTH)]
    await asyncio.gather(*(h.get_result() for h in handles))
    await (await _start(_attempt, latency_s)).get_result()


async def _s2_as_steps(latency_s: float) -> None:
    await (await _start(_execution, latency_s)).get_result()


async def _measure(name: str, run: Any, latency_s: float) -> dict[str, Any]:
    walls = []
    for i in range(TIMED_RUNS + 1):
        started = time.perf_counter()
        await run(latency_s)
        if i > 0:  # the first run warms up
            walls.append(time.perf_counter() - started)
    return per_step(
        name, latency=latency_s, steps=STEPS, critical_path=CRITICAL_PATH, walls=walls
    ) | {"peak_rss_mb": peak_rss_mb()}


@contextlib.asynccontextmanager
async def dbos_running(folder: Path) -> AsyncIterator[None]:
    """DBOS launched on the engine's own settings, its system database in `folder`."""
    url = f"sqlite:///{folder / 'floor.dbos.sqlite'}"
    system_engine = sqlite_system_engine(url)
    DBOS(
        config={
            "name": "accord-floor",
            "system_database_url": url,
            "system_database_engine": system_engine,
            "notification_listener_polling_interval_sec": 1.0,
            "max_executor_threads": 64,
            "log_level": "WARNING",
        }
    )
    await asyncio.to_thread(DBOS.launch)
    try:
        yield
    finally:
        await asyncio.to_thread(DBOS.destroy)
        system_engine.dispose()


async def attempts_in_turn(steps: int, latency_s: float) -> None:
    """A pipeline's records alone: one attempt workflow after another."""
    for _ in range(steps):
        await (await _start(_attempt, latency_s)).get_result()


async def main(as_json: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-floor-") as tmp:
        async with dbos_running(Path(tmp)):
            for latency_s in (0.0, 0.1):
                for name, run in (
                    ("floor-attempts", _s2_as_attempts),
                    ("floor-steps", _s2_as_steps),
                ):
                    result = await _measure(name, run, latency_s)
                    if as_json:
                        print(json.dumps(result), flush=True)
                    else:
                        ratio = result["ratio_to_critical_path"]
                        print(
                            f"S2 {name:<15} L={latency_s:<4} "
                            f"wall={result['wall_median_s']:.3f}s "
                            f"overhead={result['overhead_ms_per_step']:.2f} ms/step "
                            f"ratio={'-' if ratio is None else f'{ratio:.3f}'}",
                            flush=True,
                        )
