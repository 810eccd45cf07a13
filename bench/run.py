"""Engine benchmark (issue 3 item 6): overhead per step of durable executions on SQLite.

Each step is one call of a model that answers after a fixed latency L (the engine's
`LatencyPerformer`, through a durable call, as a real model call would be). Every step is
persisted as in production: step runs, events, aggregates, DBOS attempt workflows.

    python bench/run.py            # a table
    python bench/run.py --json     # one JSON object per line
    python bench/run.py --scenario scale [--workers N ...]   # worker processes on Postgres
                                                             # (see bench/scale.py)
    python bench/run.py --scenario floor   # S2 with DBOS's records alone (see bench/floor.py)
    python bench/run.py --scenario tools   # recorded and MCP tool calls (see bench/tools.py)
    python bench/run.py --scenario library   # import time, workflow.run vs accord run
                                             # (see bench/library.py)
    python bench/run.py --scenario team [--steps 200]   # a step through the real agent team,
                                                        # along a long run (see bench/team.py)
    python bench/run.py --scenario concurrency [--widths 16 64 256]   # attempts in flight
                                                        # waiting on a model (bench/concurrency.py)
    python bench/run.py --scenario streaming [--stream-text on|off|both]
                                             # the agent team with its text streamed live
                                             # and not (see bench/streaming.py)
    python bench/run.py --scenario api [--executions 100]   # GET /executions/{id} and SSE
                                             # delivery while executions run (bench/api.py)
    python bench/run.py --peers [--rounds N]  # S1-S3 against LangGraph's SQLite checkpointer,
                                              # as ratios (see bench/peers.py)

overhead per step = (median wall - L x critical path) / steps;
ratio = median wall / (L x critical path) (null when L = 0).
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from measures import cpu_seconds, peak_rss_mb, per_step
from sqlalchemy import insert

from accord.domain.workflow import WorkflowConfiguration
from accord.engine.service import Engine
from accord.engine.testing import LatencyPerformer
from accord.storage.db import Database
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import agents, collaboration_workflows, epoch_now

TIMED_RUNS = 5


def pipeline(n: int) -> tuple[str, list[dict[str, Any]], int]:
    return "pipeline", [{"id": f"s{i}", "name": f"Step {i}"} for i in range(n)], n


def fan_out(width: int) -> tuple[str, list[dict[str, Any]], int]:
    middle = [f"w{i}" for i in range(width)]
    steps = [
        {"id": "plan", "name": "Plan"},
        *({"id": m, "name": m, "dependsOn": ["plan"]} for m in middle),
        {"id": "merge", "name": "Merge", "dependsOn": middle},
    ]
    return "parallel", steps, 3


SCENARIOS = [
    ("S1", 0.0, pipeline(20)),
    ("S1", 0.1, pipeline(20)),
    ("S2", 0.0, fan_out(16)),
    ("S2", 0.1, fan_out(16)),
    ("S3", 0.0, pipeline(200)),
]


def setup(
    db: Database, workflow_type: str, steps: list[dict[str, Any]], *, max_concurrency: int = 16
) -> tuple[str, str]:
    with db.session() as s:
        user_id = (
            UserRepository(s)
            .create(email=f"{uuid.uuid4().hex}@bench.test", display_name="Bench")
            .id
        )
        agent_id = str(uuid.uuid4())
        s.execute(
            insert(agents).values(
                id=agent_id,
                user_id=user_id,
                name="Worker",
                role="developer",
                skills=[],
                created_at=epoch_now(),
                updated_at=epoch_now(),
            )
        )
        workflow_id = str(uuid.uuid4())
        configuration = WorkflowConfiguration.model_validate(
            {"steps": steps, "constraints": {"maxConcurrency": max_concurrency, "maxRetries": 0}}
        )
        s.execute(
            insert(collaboration_workflows).values(
                id=workflow_id,
                user_id=user_id,
                name="bench",
                description="benchmark",
                workflow_type=workflow_type,
                configuration=configuration.to_json_dict(),
                participating_agents=[agent_id],
                status="draft",
                created_at=epoch_now(),
                updated_at=epoch_now(),
            )
        )
    return user_id, workflow_id


async def measure(
    name: str, latency: float, shape: tuple[str, list[dict[str, Any]], int], workdir: Path
) -> dict[str, Any]:
    workflow_type, steps, critical_path = shape
    db = Database(f"sqlite:///{workdir / f'{name}-{latency}.db'}")
    db.upgrade()
    user_id, workflow_id = setup(db, workflow_type, steps)
    engine = Engine(
        db, LatencyPerformer(latency_s=latency), executor_id=f"bench-{name}", state_dir=workdir
    )
    await engine.start()
    walls = []
    cpu_start = 0.0
    try:
        for i in range(TIMED_RUNS + 1):
            started = time.perf_counter()
            execution = await engine.start_execution(workflow_id, user_id)
            done = await engine.wait(execution.id, 600)
            wall = time.perf_counter() - started
            if done.status != "completed":
                raise SystemExit(f"{name}: execution {done.status}: {done.error_message}")
            if i > 0:  # the first run warms up
                walls.append(wall)
            else:
                cpu_start = cpu_seconds()
        cpu_ms_per_step = (cpu_seconds() - cpu_start) / TIMED_RUNS / len(steps) * 1000
    finally:
        await engine.stop()
        db.dispose()
    return per_step(
        name, latency=latency, steps=len(steps), critical_path=critical_path, walls=walls
    ) | {"peak_rss_mb": peak_rss_mb(), "_cpu_ms_per_step": round(cpu_ms_per_step, 2)}


async def main(as_json: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        results = []
        for name, latency, shape in SCENARIOS:
            result = await measure(name, latency, shape, Path(tmp))
            results.append(result)
            cpu = result.pop("_cpu_ms_per_step")
            if as_json:
                print(json.dumps(result), flush=True)
            else:
                ratio = result["ratio_to_critical_path"]
                print(
                    f"{name} L={latency:<4} steps={result['steps']:<4} "
                    f"wall={result['wall_median_s']:.3f}s "
                    f"overhead={result['overhead_ms_per_step']:.2f} ms/step "
                    f"ratio={'-' if ratio is None else f'{ratio:.3f}'} "
                    f"cpu={cpu:.2f} ms/step rss={result['peak_rss_mb']} MB",
                    flush=True,
                )
        if not as_json:
            # Other processes inflate every figure: say how busy the machine was.
            print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            s1 = next(r for r in results if r["scenario"] == "S1" and r["latency_s"] == 0)
            s3 = next(r for r in results if r["scenario"] == "S3")
            s2 = next(r for r in results if r["scenario"] == "S2" and r["latency_s"] == 0.1)
            print(
                f"targets: overhead <= 10 ms/step (max "
                f"{max(r['overhead_ms_per_step'] for r in results):.2f}); S2 L=0.1 ratio <= "
                f"1.10 ({s2['ratio_to_critical_path']}); S3/S1 overhead <= 1.5 "
                f"({s3['overhead_ms_per_step'] / s1['overhead_ms_per_step']:.2f})"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--scenario",
        choices=["engine", "scale", "floor", "tools", "library", "team", "concurrency"]
        + ["streaming", "api"],
        default="engine",
        help="engine: S1-S3 on SQLite (default); scale: worker processes on Postgres; "
        "floor: S2 with DBOS's own records and nothing else; tools: a recorded tool call and "
        "an MCP call over stdio, against the same call made directly; library: import time "
        "and workflow.run against accord run; team: CPU and wall per step through the agent "
        "team along a long pipeline; concurrency: attempts in flight waiting on a model; "
        "streaming: the agent team with its text streamed live and not; api: the API's "
        "answers and live events while executions run",
    )
    parser.add_argument(
        "--executions", type=int, default=100, help="executions in flight for --scenario api"
    )
    parser.add_argument(
        "--steps", type=int, default=200, help="the long run's steps for --scenario team"
    )
    parser.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=[16, 64, 256],
        help="fan-out widths for --scenario concurrency (default: 16 64 256)",
    )
    parser.add_argument(
        "--stream-text",
        choices=["on", "off", "both"],
        default="both",
        help="for --scenario streaming: stream the agents' text, or not, or both (default)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="S1, S2 and S3 against LangGraph with its SQLite checkpointer, in the same run, "
        "as ratios (see bench/peers.py, which says how to install LangGraph)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of Accord and LangGraph for --peers"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 4],
        help="worker counts for --scenario scale (default: 1 2 4)",
    )
    args = parser.parse_args()
    if args.peers:
        import peers

        peers.main(args.rounds, args.json)
    elif args.scenario == "scale":
        import scale  # bench/ is this script's directory

        asyncio.run(scale.main(args.workers, args.json))
    elif args.scenario == "tools":
        import tools

        asyncio.run(tools.main(args.json))
    elif args.scenario == "library":
        import library

        library.main(args.json)
    elif args.scenario == "team":
        import team

        asyncio.run(team.main(args.json, args.steps))
    elif args.scenario == "concurrency":
        import concurrency

        concurrency.main(args.widths, args.json)
    elif args.scenario == "streaming":
        import streaming

        asyncio.run(streaming.main(args.stream_text, args.json))
    elif args.scenario == "api":
        import api

        api.main(args.executions, args.json)
    elif args.scenario == "floor":
        import floor

        asyncio.run(floor.main(args.json))
    else:
        asyncio.run(main(args.json))
    sys.exit(0)
