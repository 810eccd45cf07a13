"""Accord against the best durable peer (issue 19 item 1), measured in the same run.

The peer is LangGraph with its SQLite checkpointer (`AsyncSqliteSaver`, durability "sync":
every superstep's checkpoint is committed before the next one starts), on the same SQLite
settings as Accord's tables (WAL, synchronous=NORMAL). Both run the same scenarios, each step
one call of the same fake model that sleeps L and answers a small result, and each step sees
its predecessors' results:

- S1: a 20-step pipeline at L = 0 (overhead per step);
- S2: a fan-out (plan, 16 steps at once, merge) at L = 0.1 (ratio to the critical path);
- S3: a 200-step pipeline at L = 0 (overhead per step, against S1's).

Each framework runs in a process of its own (so its peak RSS is its own), in rounds that take
turns, median of five timed runs after a warm-up. What is printed are Accord's figures as
ratios to LangGraph's from the same round: a busy machine slows both.

LangGraph is a benchmark-only dependency, in an environment of its own:

    python3 -m venv .venv-peers
    .venv/bin/uv pip install --python .venv-peers/bin/python -r bench/peers/requirements.lock
    .venv/bin/python bench/run.py --peers [--rounds 2] [--json]
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from measures import cpu_seconds, peak_rss_mb, per_step

BENCH = Path(__file__).resolve().parent
PEERS_PYTHON = BENCH.parent / ".venv-peers" / "bin" / "python"
TIMED_RUNS = 5
FAN_OUT = 16
SCENARIOS: list[tuple[str, float]] = [("S1", 0.0), ("S2", 0.1), ("S3", 0.0)]
INSTALL = (
    "LangGraph is not installed. It is a benchmark-only dependency, kept in an environment of "
    "its own:\n"
    "    python3 -m venv .venv-peers\n"
    "    .venv/bin/uv pip install --python .venv-peers/bin/python "
    "-r bench/peers/requirements.lock\n"
    "then run `.venv/bin/python bench/run.py --peers` again."
)


def _figures(
    scenario: str, latency: float, steps: int, critical_path: int, walls: list[float], cpu: float
) -> dict[str, Any]:
    return per_step(
        scenario, latency=latency, steps=steps, critical_path=critical_path, walls=walls
    ) | {
        "cpu_ms_per_step": round(cpu / TIMED_RUNS / steps * 1000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


# --- LangGraph (run under .venv-peers/bin/python) ------------------------------------------


async def _langgraph(workdir: Path) -> list[dict[str, Any]]:
    import operator
    from typing import Annotated, TypedDict

    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.graph import END, START, StateGraph

    def merged(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
        return {**left, **right}

    class State(TypedDict):
        results: Annotated[dict[str, Any], merged]
        calls: Annotated[int, operator.add]

    def model_step(step_id: str, latency: float) -> Any:
        async def step(state: State) -> dict[str, Any]:
            seen = len(state["results"])  # it sees its predecessors' results
            await asyncio.sleep(latency)  # the fake model
            return {"results": {step_id: {"summary": f"{step_id} done", "seen": seen}}, "calls": 1}

        return step

    def pipeline(n: int, latency: float) -> tuple[StateGraph[State], int, int]:
        graph = StateGraph(State)
        previous = START
        for i in range(n):
            graph.add_node(f"s{i}", model_step(f"s{i}", latency))
            graph.add_edge(previous, f"s{i}")
            previous = f"s{i}"
        graph.add_edge(previous, END)
        return graph, n, n

    def fan_out(width: int, latency: float) -> tuple[StateGraph[State], int, int]:
        graph = StateGraph(State)
        middle = [f"w{i}" for i in range(width)]
        graph.add_node("plan", model_step("plan", latency))
        graph.add_node("merge", model_step("merge", latency))
        graph.add_edge(START, "plan")
        for m in middle:
            graph.add_node(m, model_step(m, latency))
            graph.add_edge("plan", m)
        graph.add_edge(middle, "merge")
        graph.add_edge("merge", END)
        return graph, width + 2, 3

    results = []
    for scenario, latency in SCENARIOS:
        builder, steps, critical_path = (
            pipeline(20, latency)
            if scenario == "S1"
            else fan_out(FAN_OUT, latency)
            if scenario == "S2"
            else pipeline(200, latency)
        )
        async with aiosqlite.connect(workdir / f"langgraph-{scenario}.db") as conn:
            # Accord's settings for its own tables (see accord.storage.db).
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            saver = AsyncSqliteSaver(conn)
            await saver.setup()
            graph = builder.compile(checkpointer=saver)
            walls: list[float] = []
            cpu_start = 0.0
            for i in range(TIMED_RUNS + 1):
                config = {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": 1000}
                started = time.perf_counter()
                final = await graph.ainvoke(
                    {"results": {}, "calls": 0},
                    config,  # type: ignore[arg-type]
                    durability="sync",
                )
                wall = time.perf_counter() - started
                if final["calls"] != steps:
                    raise SystemExit(f"langgraph {scenario}: {final['calls']} of {steps} calls")
                if i == 0:  # the first run warms up
                    cpu_start = cpu_seconds()
                else:
                    walls.append(wall)
            cpu = cpu_seconds() - cpu_start
        results.append(_figures(scenario, latency, steps, critical_path, walls, cpu))
    return results


# --- Accord (run under .venv/bin/python) ----------------------------------------------------


async def _accord(workdir: Path) -> list[dict[str, Any]]:
    import run  # bench/run.py: the engine benchmark's setup and timing

    shapes = {"S1": run.pipeline(20), "S2": run.fan_out(FAN_OUT), "S3": run.pipeline(200)}
    results = []
    for scenario, latency in SCENARIOS:
        measured = await run.measure(scenario, latency, shapes[scenario], workdir)
        cpu = measured.pop("_cpu_ms_per_step")
        measured["cpu_ms_per_step"] = cpu
        measured["peak_rss_mb"] = peak_rss_mb()
        results.append(measured)
    return results


async def _floor(workdir: Path) -> list[dict[str, Any]]:
    """DBOS's own records and nothing else (see bench/floor.py): one attempt workflow with one
    recorded call per step, as the engine runs them. Whatever Accord costs, it costs at least
    this; the difference is Accord's own."""
    import floor

    results = []
    async with floor.dbos_running(workdir):
        for scenario, latency in SCENARIOS:
            steps, critical_path = {"S1": (20, 20), "S2": (FAN_OUT + 2, 3)}.get(
                scenario, (200, 200)
            )
            walls: list[float] = []
            cpu_start = 0.0
            for i in range(TIMED_RUNS + 1):
                started = time.perf_counter()
                if scenario == "S2":
                    await floor._s2_as_attempts(latency)
                else:
                    await floor.attempts_in_turn(steps, latency)
                wall = time.perf_counter() - started
                if i == 0:
                    cpu_start = cpu_seconds()
                else:
                    walls.append(wall)
            cpu = cpu_seconds() - cpu_start
            results.append(_figures(scenario, latency, steps, critical_path, walls, cpu))
    return results


FRAMEWORKS = {"accord": _accord, "dbos-floor": _floor, "langgraph": _langgraph}


def child(framework: str) -> None:
    """One framework's scenarios, one JSON object per line on stdout."""
    sys.path.insert(0, str(BENCH))
    with tempfile.TemporaryDirectory(prefix=f"accord-peers-{framework}-") as tmp:
        for result in asyncio.run(FRAMEWORKS[framework](Path(tmp))):
            print(json.dumps({"framework": framework, **result}), flush=True)


# --- the driver ------------------------------------------------------------------------------


def _run_child(framework: str) -> dict[str, dict[str, Any]]:
    python = str(PEERS_PYTHON) if framework == "langgraph" else sys.executable
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child", framework],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{framework} failed:\n{done.stderr[-4000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {line["scenario"]: line for line in lines}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def main(rounds: int, as_json: bool) -> None:
    if not PEERS_PYTHON.exists():
        print(INSTALL)
        return
    check = subprocess.run(
        [str(PEERS_PYTHON), "-c", "import langgraph.checkpoint.sqlite.aio"],
        capture_output=True,
        check=False,
    )
    if check.returncode != 0:
        print(INSTALL)
        return
    for n in range(1, rounds + 1):
        accord = _run_child("accord")
        floor = _run_child("dbos-floor")
        peer = _run_child("langgraph")
        load = os.getloadavg()
        s1, s2, s3 = accord["S1"], accord["S2"], accord["S3"]
        p1, p2, p3 = peer["S1"], peer["S2"], peer["S3"]
        summary = {
            "round": n,
            "load_average": [round(x, 2) for x in load],
            "overhead_ratio_S1": _ratio(s1["overhead_ms_per_step"], p1["overhead_ms_per_step"]),
            "overhead_ratio_S2": _ratio(s2["overhead_ms_per_step"], p2["overhead_ms_per_step"]),
            "overhead_ratio_S3": _ratio(s3["overhead_ms_per_step"], p3["overhead_ms_per_step"]),
            "S2_ratio_accord": s2["ratio_to_critical_path"],
            "S2_ratio_langgraph": p2["ratio_to_critical_path"],
            "S3_over_S1_accord": _ratio(s3["overhead_ms_per_step"], s1["overhead_ms_per_step"]),
            "S3_over_S1_langgraph": _ratio(p3["overhead_ms_per_step"], p1["overhead_ms_per_step"]),
            "cpu_ratio_S1": _ratio(s1["cpu_ms_per_step"], p1["cpu_ms_per_step"]),
            "cpu_ratio_S3": _ratio(s3["cpu_ms_per_step"], p3["cpu_ms_per_step"]),
            "floor_ratio_S1": _ratio(
                floor["S1"]["overhead_ms_per_step"], p1["overhead_ms_per_step"]
            ),
            "floor_ratio_S2": _ratio(
                floor["S2"]["overhead_ms_per_step"], p2["overhead_ms_per_step"]
            ),
            "floor_ratio_S3": _ratio(
                floor["S3"]["overhead_ms_per_step"], p3["overhead_ms_per_step"]
            ),
            "S2_ratio_floor": floor["S2"]["ratio_to_critical_path"],
            "rss_ratio": _ratio(
                max(r["peak_rss_mb"] for r in accord.values()),
                max(r["peak_rss_mb"] for r in peer.values()),
            ),
        }
        if as_json:
            for result in [*accord.values(), *floor.values(), *peer.values()]:
                print(json.dumps({"round": n, **result}))
            print(json.dumps(summary), flush=True)
            continue
        print(f"round {n}")
        for name, figures in (("accord", accord), ("dbos-floor", floor), ("langgraph", peer)):
            for scenario, r in figures.items():
                ratio = r["ratio_to_critical_path"]
                print(
                    f"  {name:<10} {scenario} L={r['latency_s']:<4} steps={r['steps']:<4} "
                    f"wall={r['wall_median_s']:.3f}s "
                    f"overhead={r['overhead_ms_per_step']:.2f} ms/step "
                    f"ratio={'-' if ratio is None else f'{ratio:.3f}'} "
                    f"cpu={r['cpu_ms_per_step']:.2f} ms/step rss={r['peak_rss_mb']} MB"
                )
        s = summary
        print(
            "  Accord / LangGraph: overhead S1 {overhead_ratio_S1}, S2 {overhead_ratio_S2}, "
            "S3 {overhead_ratio_S3} (target <= 1.0); S2 ratio to critical path "
            "{S2_ratio_accord} vs {S2_ratio_langgraph} (target: no worse); S3/S1 "
            "{S3_over_S1_accord} (target <= 1.2; LangGraph {S3_over_S1_langgraph}); CPU per "
            "step S1 {cpu_ratio_S1}, S3 {cpu_ratio_S3}; peak RSS {rss_ratio}".format(**s)
        )
        print(
            "  Floor: DBOS's records alone (a workflow and a recorded call per step, nothing of "
            "Accord) / LangGraph: overhead S1 {floor_ratio_S1}, S2 {floor_ratio_S2}, S3 "
            "{floor_ratio_S3}; S2 ratio to critical path {S2_ratio_floor}. Accord cannot go "
            "below this floor while every attempt is a DBOS workflow".format(**s)
        )
        print("  load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*load), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main(rounds=1, as_json="--json" in sys.argv)
