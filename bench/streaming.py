"""What streaming agents' text costs (issue 18): the agent team on the offline model, with the
text of every model call streamed to a watcher (as `accord serve` watches it) and without.

    python bench/run.py --scenario streaming                    # on and off, interleaved
    python bench/run.py --scenario streaming --stream-text off  # one side only

A 10-step pipeline of one agent on the offline model (a few model calls a step: a knowledge
search, a knowledge share, the answer), in a scratch SQLite database, run `RUNS` times per
side after a warm-up. The sides alternate run by run in one engine (the team's live channel
switched on and off), so a busy machine weighs on both alike. With streaming on, a
subscriber counts the deltas, so their delivery is measured too.
Latency 0 measures the pure cost (the offline model answers at once, in pieces); at 0.2 s a
call the pieces are spread over the call's time, as a real model's are.

Per side: median wall per step, CPU per step (this process, all threads), deltas per step;
then the difference on - off, as a share of the step's overhead (wall per step minus the
model's latency). Last, the cost of streaming alone: the CPU of one model call (the offline
model at latency 0, its deltas published to a subscriber), watched and not, 100 times each,
interleaved (on a busy machine the wall-clock differences above are mostly noise; this is
not).
"""

import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from measures import cpu_seconds
from run import setup

from accord.domain.execution import TextDelta
from accord.engine.service import Engine
from accord.llm.offline import OfflineModel
from accord.storage.db import Database
from accord.storage.live_text import live_text
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam

RUNS = 5
STEPS = 10
LATENCIES = (0.0, 0.2)


async def measure(latency: float, sides: list[str], workdir: Path) -> list[dict[str, Any]]:
    db = Database(f"sqlite:///{workdir / f'streaming-{latency}.db'}")
    db.upgrade()
    steps = [
        {
            "id": f"s{i}",
            "name": f"Step {i}",
            "instructions": "List what changed in the release and who it affects.",
        }
        for i in range(STEPS)
    ]
    user_id, workflow_id = setup(db, "pipeline", steps)
    model = OfflineModel(latency_seconds=latency, question_rate=0.0, feedback_rate=0.0)
    team = AgentTeam(
        db, models=lambda _agent: AgentModel(model), workspaces=workdir / "ws", stream_text=True
    )
    channel = team.live
    deltas: list[int] = [0]

    def count(_delta: TextDelta) -> None:
        deltas[0] += 1

    unsubscribe = live_text(db).subscribe(count)
    engine = Engine(db, team, executor_id=f"bench-streaming-{uuid.uuid4().hex[:6]}")
    await engine.start()
    walls: dict[str, list[float]] = {side: [] for side in sides}
    cpus: dict[str, list[float]] = {side: [] for side in sides}
    counted: dict[str, list[int]] = {side: [] for side in sides}
    calls: list[float] = []
    try:
        for run in range(RUNS + 1):
            for side in sides:
                team.live = channel if side == "on" else None
                deltas[0] = 0
                cpu, started = cpu_seconds(), time.perf_counter()
                execution = await engine.start_execution(workflow_id, user_id)
                done = await engine.wait(execution.id, 600)
                wall = time.perf_counter() - started
                if done.status != "completed":
                    raise SystemExit(f"execution {done.status}: {done.error_message}")
                if run > 0:  # the first run of each side warms up
                    walls[side].append(wall / STEPS)
                    cpus[side].append((cpu_seconds() - cpu) / STEPS)
                    counted[side].append(deltas[0] // STEPS)
                    calls.append(done.usage.model_calls / STEPS)
    finally:
        unsubscribe()
        await engine.stop()
        db.dispose()
    return [
        {
            "latency_s": latency,
            "stream_text": side,
            "wall_ms_per_step": round(statistics.median(walls[side]) * 1000, 2),
            "cpu_ms_per_step": round(statistics.median(cpus[side]) * 1000, 2),
            "deltas_per_step": statistics.median(counted[side]),
            "model_calls_per_step": statistics.median(calls),
        }
        for side in sides
    ]


async def per_call(calls: int = 100) -> dict[str, float]:
    """CPU per model call of one agent on the offline model (latency 0), watched and not,
    interleaved: the cost of streaming itself, which a loaded machine's wall clock hides."""
    from pydantic_ai import Agent

    from accord.domain.step_result import StepResult
    from accord.llm.streaming import TextTap, observing
    from accord.storage.live_text import LiveText

    channel = LiveText()
    received: list[TextDelta] = []
    channel.subscribe(received.append)
    agent = Agent(OfflineModel(), output_type=StepResult)
    prompt = "Write the release notes for version 2.4: what changed and who it affects."

    def publish(piece: Any) -> None:
        channel.publish(
            TextDelta(
                execution_id="e",
                user_id="u",
                step_id="s",
                attempt=1,
                agent_id="a",
                agent_name="Ada",
                call=piece.call,
                part=piece.part,
                tool=piece.tool,
                offset=piece.offset,
                text=piece.text,
            )
        )

    on: list[float] = []
    off: list[float] = []
    for _ in range(calls):
        started = time.process_time()
        with observing(TextTap(emit=publish, output_tools=frozenset({"final_result"}))):
            await agent.run(prompt)
        on.append(time.process_time() - started)
        started = time.process_time()
        await agent.run(prompt)
        off.append(time.process_time() - started)
    return {
        "on_cpu_ms_per_call": round(statistics.median(on) * 1000, 3),
        "off_cpu_ms_per_call": round(statistics.median(off) * 1000, 3),
        "deltas_per_call": len(received) / calls,
    }


async def main(stream_text: str, as_json: bool) -> None:
    os.environ.setdefault("ACCORD_DBOS_LOG_LEVEL", "ERROR")
    sides = ["on", "off"] if stream_text == "both" else [stream_text]
    with tempfile.TemporaryDirectory(prefix="accord-bench-streaming-") as tmp:
        for latency in LATENCIES:
            results = await measure(latency, sides, Path(tmp))
            for result in results:
                if as_json:
                    print(json.dumps(result), flush=True)
                else:
                    print(
                        f"L={latency:<4} stream={result['stream_text']:<3} "
                        f"wall={result['wall_ms_per_step']:.1f} ms/step "
                        f"cpu={result['cpu_ms_per_step']:.1f} ms/step "
                        f"deltas={result['deltas_per_step']}/step "
                        f"model calls={result['model_calls_per_step']}/step",
                        flush=True,
                    )
            if len(results) == 2 and not as_json:
                on, off = results
                model_ms = latency * off["model_calls_per_step"] * 1000
                overhead = off["wall_ms_per_step"] - model_ms
                extra = on["wall_ms_per_step"] - off["wall_ms_per_step"]
                print(
                    f"  streaming costs {extra:+.1f} ms/step wall "
                    f"({extra / overhead:+.1%} of the step's {overhead:.0f} ms overhead), "
                    f"{on['cpu_ms_per_step'] - off['cpu_ms_per_step']:+.1f} ms/step CPU",
                    flush=True,
                )
        if stream_text == "both":
            call = await per_call()
            if as_json:
                print(json.dumps(call), flush=True)
            else:
                extra = call["on_cpu_ms_per_call"] - call["off_cpu_ms_per_call"]
                print(
                    f"one model call, CPU: streamed {call['on_cpu_ms_per_call']:.2f} ms, "
                    f"not {call['off_cpu_ms_per_call']:.2f} ms: {extra:+.2f} ms a call "
                    f"({call['deltas_per_call']:.1f} deltas)",
                    flush=True,
                )
    if not as_json:
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
