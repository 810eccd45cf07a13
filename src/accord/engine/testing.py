"""Test-double performers, shipped with the engine: they run the engine (tests, benchmark,
crash test) without agents or models.

`LatencyPerformer` answers each attempt with a schema-valid StepResult after a fixed
latency, through one durable call (as a model call would be), and can be scripted to fail,
ask for rework, hang, delegate or return data a condition tests.

Run as a module, this is a worker process with that performer (the worker-loss test and the
scale benchmark start several), as `accord worker` runs the agent team:

    python -m accord.engine.testing <executor_id> <latency_s> [<call_log>]

The database comes from ACCORD_DATABASE_URL, the limits from ACCORD_WORKER_CONCURRENCY and
ACCORD_GLOBAL_CONCURRENCY. It prints `ready` once it takes attempts and stops on SIGTERM.
"""

import asyncio
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.domain.ports import ApprovalRequest, Assignment, AttemptContext, AttemptOutcome


def stop_all(processes: Iterable["subprocess.Popen[Any]"], *, timeout_s: float = 20) -> None:
    """SIGTERM each process still running (worker processes stop cleanly on it), then wait for
    it, with SIGKILL after `timeout_s`."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class LatencyPerformer:
    latency_s: float = 0.0
    fail_first: Mapping[str, int] = field(default_factory=dict)
    """Step ID -> how many first attempts fail (retryable)."""
    rework_first: Mapping[str, int] = field(default_factory=dict)
    """Step ID -> how many first attempts a review sends back for rework."""
    hang: Mapping[str, float] = field(default_factory=dict)
    """Step ID -> seconds the attempt takes instead of `latency_s` (for timeouts)."""
    data: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    """Step ID -> the `data` its result carries (e.g. {"outcome": "yes"} for a decision)."""
    delegate_to: Mapping[str, list[str]] = field(default_factory=dict)
    """Step ID -> agents it delegates a sub-task to, one child execution each."""
    children_started: list[tuple[str, bool]] = field(default_factory=list)
    """(child execution ID, whether it had run an attempt yet) as each delegation's
    `on_started` heard of it."""
    ask_approval: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Step ID -> (server, tool) whose call the attempt asks a user to approve before its
    model call; the decision lands in its result's `data.approval`."""
    call_log: Path | None = None
    """When set, every real (not replayed) model call appends `call execution:step:attempt pid`,
    and every attempt that got its call's recorded result appends `recorded ...` after it."""
    performed: list[tuple[str, str, int]] = field(default_factory=list)

    async def assign(self, ctx: AttemptContext) -> Assignment:
        agent = ctx.step.preferred_agent_id or ctx.plan.participants[0]
        return Assignment(agent_id=agent, reason="test double: preferred or first participant")

    async def perform(self, ctx: AttemptContext) -> AttemptOutcome:
        key = (ctx.execution_id, ctx.step.id, ctx.attempt)
        self.performed.append(key)
        children = []
        for agent_id in self.delegate_to.get(ctx.step.id, []):
            child = await ctx.children.delegate(
                agent_id=agent_id,
                title=f"help with {ctx.step.id}",
                instructions="do a part",
                expected_output="a part",
                on_started=self._child_started,
            )
            if child.status != "completed":
                return AttemptOutcome(
                    status="failed", error=f"delegation failed: {child.error}", retryable=False
                )
            children.append(child.execution_id)
        approval = None
        if ctx.step.id in self.ask_approval:
            server, tool = self.ask_approval[ctx.step.id]
            decided = await ctx.approvals.wait_for_approval(
                ApprovalRequest(
                    agent_id=ctx.agent_id or "",
                    server=server,
                    tool=tool,
                    arguments={"path": f"{ctx.step.id}.txt", "apiKey": "sk-test-secret"},
                )
            )
            approval = {
                "id": decided.id,
                "status": decided.status.value,
                "approved": decided.approved,
                "reason": decided.reason,
            }
        answer = await ctx.durable.call("model", lambda: self._model_call(ctx))
        self._log("recorded", ctx)
        if ctx.attempt <= self.fail_first.get(ctx.step.id, 0):
            return AttemptOutcome(status="failed", error=f"scripted failure {ctx.attempt}")
        if ctx.attempt <= self.rework_first.get(ctx.step.id, 0):
            return AttemptOutcome(
                status="rework", result=answer, feedback=f"please improve (round {ctx.attempt})"
            )
        if children:
            answer = {**answer, "data": {**answer["data"], "children": children}}
        if approval is not None:
            answer = {**answer, "data": {**answer["data"], "approval": approval}}
        return AttemptOutcome(status="completed", result=answer)

    async def _child_started(self, child_id: str) -> None:
        ran = any(key[0] == child_id for key in self.performed)
        self.children_started.append((child_id, ran))

    def _log(self, kind: str, ctx: AttemptContext) -> None:
        if self.call_log is None:
            return
        line = f"{kind} {ctx.execution_id}:{ctx.step.id}:{ctx.attempt} {os.getpid()}\n"
        fd = os.open(self.call_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    async def _model_call(self, ctx: AttemptContext) -> dict[str, Any]:
        await asyncio.sleep(self.hang.get(ctx.step.id, self.latency_s))
        self._log("call", ctx)
        return {
            "summary": f"{ctx.step.id} done (attempt {ctx.attempt})",
            "output": json.dumps(
                {
                    "step": ctx.step.id,
                    "inputs": sorted(ctx.dependency_results),
                    "feedback": ctx.feedback,
                }
            ),
            "confidence": 0.9,
            "data": {"step": ctx.step.id, **self.data.get(ctx.step.id, {})},
        }


async def _latency_worker(executor_id: str, latency_s: float, call_log: Path | None) -> None:
    from accord.engine.queue import AttemptQueue
    from accord.engine.service import Engine
    from accord.engine.worker import work_until_stopped
    from accord.storage.db import Database

    db = Database()
    performer = LatencyPerformer(latency_s=latency_s, call_log=call_log)
    engine = Engine(
        db, performer, executor_id=executor_id, queue=AttemptQueue.from_env(), role="worker"
    )
    try:
        await work_until_stopped(engine, on_ready=lambda: print("ready", flush=True))
    finally:
        db.dispose()


if __name__ == "__main__":
    import sys

    asyncio.run(
        _latency_worker(
            sys.argv[1], float(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None
        )
    )
