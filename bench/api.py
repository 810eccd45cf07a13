"""API benchmark (issue 19 item 5): how fast the API answers, and how late its live events
arrive, while 100 executions run.

A real `accord serve` (a subprocess on SQLite, as `tests/e2e` start it) runs the executions
with the agent team on the offline model, which answers every request after `LATENCY_S`, so
the executions stay in flight. `--executions` workflows (a workflow runs one execution at a
time), each a pipeline of `STEPS` steps, are started over the API. While all of them run,
`POLLERS` clients each read `GET /executions/{id}` of a random execution, pausing
`POLL_PAUSE_S` between requests (as browser tabs refreshing a page would), and one client
follows the user's event stream (`GET /events`, Server-Sent Events) and notes, for each
event, the time from its creation (`createdAt`) to its receipt.

    python bench/run.py --scenario api [--executions 100] [--json]

Figures count only what happened while every execution had started and none had finished.
Targets: p99 under 100 ms for both.
"""

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.server import running_server  # noqa: E402

API = "/api/v1"
LATENCY_S = 2.0
"""Each model request of the offline model takes this long (a step makes about two)."""
STEPS = 6
POLLERS = 4
POLL_PAUSE_S = 0.05
ENDED = {"completed", "failed", "cancelled"}


@dataclass
class Run:
    """What the clients saw while the executions ran."""

    executions: list[str] = field(default_factory=list)
    started_all_at: float | None = None
    """When the last execution was started (wall clock); None until then."""
    ended: set[str] = field(default_factory=set)
    first_end_at: float | None = None
    get_ms: list[float] = field(default_factory=list)
    event_delay_ms: list[float] = field(default_factory=list)
    events: int = 0
    deltas: int = 0

    def all_running(self, at: float) -> bool:
        return (
            self.started_all_at is not None
            and at >= self.started_all_at
            and (self.first_end_at is None or at < self.first_end_at)
        )

    def finished(self, total: int) -> bool:
        return len(self.ended) >= total


def _signed_in_token(base_url: str, login_link: str) -> str:
    """An API token of the local user, made with the session the login link opens."""
    with httpx.Client(base_url=base_url, headers={"Origin": base_url}) as client:
        client.get(login_link, follow_redirects=True).raise_for_status()
        made = client.post(f"{API}/tokens", json={"name": "bench", "scope": "admin"})
        made.raise_for_status()
        return str(made.json()["token"])


async def _agent(client: httpx.AsyncClient) -> str:
    provider = await _post(
        client,
        "/providers",
        {
            "name": "slow offline",
            "kind": "offline",
            "defaultModel": "offline",
            "settings": {"latencySeconds": LATENCY_S, "questionRate": 0, "feedbackRate": 0},
        },
    )
    agent = await _post(
        client,
        "/agents",
        {
            "name": "Ada",
            "role": "developer",
            "backstory": "Writes clear release notes.",
            "llmProviderId": provider["id"],
        },
    )
    return str(agent["id"])


async def _workflow(client: httpx.AsyncClient, agent_id: str) -> str:
    workflow = await _post(
        client,
        "/workflows",
        {
            "name": "api bench",
            "description": "a pipeline on a slow offline model",
            "workflowType": "pipeline",
            "participatingAgents": [agent_id],
            "configuration": {
                "steps": [
                    {
                        "id": f"s{i}",
                        "name": f"Step {i}",
                        "instructions": "List what changed in the release and who it affects.",
                        "dependsOn": [f"s{i - 1}"] if i else [],
                    }
                    for i in range(STEPS)
                ]
            },
        },
    )
    return str(workflow["id"])


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(API + path, json=body)
    if answer.status_code >= 400:
        raise SystemExit(f"POST {path}: {answer.status_code} {answer.text}")
    result: dict[str, Any] = answer.json()
    return result


async def _follow_events(client: httpx.AsyncClient, run: Run, total: int) -> None:
    """Reads the user's event stream, noting each event's delay and which executions ended."""
    async with client.stream("GET", f"{API}/events", timeout=None) as stream:
        frame: dict[str, str] = {}
        async for line in stream.aiter_lines():
            if line:
                name, _, value = line.partition(":")
                frame[name] = value.removeprefix(" ")
                continue
            received = time.time()
            if "id" in frame:
                event = json.loads(frame["data"])
                created = datetime.fromisoformat(event["createdAt"]).timestamp()
                run.events += 1
                if run.all_running(created):
                    run.event_delay_ms.append((received - created) * 1000)
                # The server is this benchmark's alone: every execution is one of ours.
                if event["kind"] == "execution.status" and event["data"]["status"] in ENDED:
                    run.first_end_at = run.first_end_at or created
                    run.ended.add(event["executionId"])
                    if run.finished(total):
                        return
            elif frame.get("event") == "text.delta":
                run.deltas += 1
            frame = {}


async def _poll(client: httpx.AsyncClient, run: Run, total: int) -> None:
    while not run.finished(total):
        execution_id = random.choice(run.executions)
        sent, started = time.time(), time.perf_counter()
        answer = await client.get(f"{API}/executions/{execution_id}")
        took = time.perf_counter() - started
        answer.raise_for_status()
        if run.all_running(sent) and run.all_running(time.time()):
            run.get_ms.append(took * 1000)
        await asyncio.sleep(POLL_PAUSE_S)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(values), 1),
    }


async def measure(executions: int, base_url: str, token: str) -> dict[str, Any]:
    run = Run()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=POLLERS + 4)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=60, limits=limits
    ) as client:
        agent_id = await _agent(client)
        workflows = [await _workflow(client, agent_id) for _ in range(executions)]
        events = asyncio.create_task(_follow_events(client, run, executions))
        await asyncio.sleep(0.5)  # the stream is open before the first event
        wall = time.perf_counter()
        starts = [_post(client, f"/workflows/{w}/executions", {}) for w in workflows]
        run.executions.extend(started["id"] for started in await asyncio.gather(*starts))
        run.started_all_at = time.time()
        pollers = [asyncio.create_task(_poll(client, run, executions)) for _ in range(POLLERS)]
        await asyncio.wait_for(events, timeout=1800)
        await asyncio.gather(*pollers)
        wall = time.perf_counter() - wall
    window = (run.first_end_at or time.time()) - (run.started_all_at or 0)
    return {
        "scenario": "api",
        "executions": executions,
        "steps": STEPS,
        "latency_s": LATENCY_S,
        "wall_s": round(wall, 1),
        "all_running_s": round(window, 1),
        "get_execution": {"requests": len(run.get_ms), **_percentiles(run.get_ms)},
        "event_delivery": {"events": len(run.event_delay_ms), **_percentiles(run.event_delay_ms)},
        "events_total": run.events,
        "text_deltas": run.deltas,
    }


def main(executions: int, as_json: bool) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-api-") as data,
        running_server(Path(data)) as server,
    ):
        token = _signed_in_token(server.base_url, server.login_link)
        result = asyncio.run(measure(executions, server.base_url, token))
    if as_json:
        print(json.dumps(result), flush=True)
        return
    get, events = result["get_execution"], result["event_delivery"]
    print(
        f"api: {executions} executions of {STEPS} steps (model latency {LATENCY_S} s) through "
        f"accord serve on SQLite: wall {result['wall_s']} s, all running for "
        f"{result['all_running_s']} s",
        flush=True,
    )
    print(
        f"  GET /executions/{{id}} ({POLLERS} clients, {get['requests']} requests): "
        f"p50 {get['p50_ms']} ms, p99 {get['p99_ms']} ms, max {get['max_ms']} ms"
    )
    print(
        f"  SSE event delivery ({events['events']} events, created to received): "
        f"p50 {events['p50_ms']} ms, p99 {events['p99_ms']} ms, max {events['max_ms']} ms"
        f" ({result['text_deltas']} text deltas beside them)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("targets: p99 < 100 ms for both")
