"""Team benchmark (issue 19 item 2): what one step costs through the real agent team, and
whether that cost stays flat as an execution grows.

A pipeline of three agents on the offline model at zero latency, with everything a team does
on: the coordinator assigns each step, agents use the collaboration tools (questions,
knowledge, feedback), each step is reviewed, insights become team knowledge. S1 is 20 steps,
the long run 200 (`--steps`). The engine runs in this process on SQLite; each step's CPU and
wall time is what the process spent between the end of the previous step and the end of this
one (a pipeline runs one step at a time, so that is all the step's work: assignment, model
calls, tools, review, knowledge, the engine's bookkeeping).

    python bench/run.py --scenario team [--steps 200] [--json]

Targets: the last tenth of the long run costs at most 1.2 x its first tenth (per step, CPU),
and at most 30 ms of CPU per step.
"""

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measures import cpu_seconds, peak_rss_mb

from accord.domain.ports import Assignment, AttemptContext, AttemptOutcome
from accord.engine.service import Engine
from accord.library.definition import Agent, Coordination, Step, Workflow
from accord.storage.db import Database
from accord.storage.repositories.users import UserRepository
from accord.team.runtime import AgentTeam
from accord.team.workflow_files import install_workflow


@dataclass
class StepCost:
    step_id: str
    wall_s: float
    cpu_s: float
    model_calls: int
    attempts: int


@dataclass
class TimedTeam:
    """The real `AgentTeam`, noting the process's clocks when each attempt ends."""

    team: AgentTeam
    marks: list[tuple[str, float, float, int]] = field(default_factory=list)
    """(step ID, wall clock, process CPU, model calls) at the end of each attempt."""

    async def assign(self, ctx: AttemptContext) -> Assignment:
        return await self.team.assign(ctx)

    async def perform(self, ctx: AttemptContext) -> AttemptOutcome:
        outcome = await self.team.perform(ctx)
        self.marks.append(
            (ctx.step.id, time.perf_counter(), cpu_seconds(), outcome.usage.model_calls)
        )
        return outcome


def team_workflow(steps: int) -> Workflow:
    ada = Agent(name="Ada", role="developer", skills=["python", "testing"])
    ben = Agent(name="Ben", role="reviewer", skills=["review", "security"])
    cy = Agent(name="Cy", role="analyst", skills=["research", "writing"])
    return Workflow(
        name=f"Team bench {steps}",
        agents=[ada, ben, cy],
        coordinator=cy,
        coordination=Coordination(knowledge_sharing=True, decision_making="coordinator"),
        steps=[
            Step(
                id=f"s{i}",
                name=f"Part {i} of the report",
                description=f"Write part {i}: findings on component {i % 7} and its risks.",
                review_required=True,
                reviewer_role="reviewer",
                validation_criteria=["names the component", "states a risk"],
            )
            for i in range(steps)
        ],
    )


async def run_team(steps: int, workdir: Path) -> tuple[list[StepCost], dict[str, Any]]:
    db = Database(f"sqlite:///{workdir / f'team-{steps}.db'}")
    db.upgrade()
    with db.session() as s:
        user_id = (
            UserRepository(s)
            .create(email=f"{uuid.uuid4().hex}@bench.test", display_name="Bench")
            .id
        )
        workflow_id = install_workflow(s, user_id=user_id, loaded=team_workflow(steps).loaded()).id
    timed = TimedTeam(AgentTeam(db, workspaces=workdir / "workspaces"))
    engine = Engine(db, timed, executor_id=f"team-bench-{steps}", state_dir=workdir)
    await engine.start()
    try:
        started_wall, started_cpu = time.perf_counter(), cpu_seconds()
        execution = await engine.start_execution(workflow_id, user_id)
        done = await engine.wait(execution.id, 3600)
        total_wall, total_cpu = time.perf_counter() - started_wall, cpu_seconds() - started_cpu
        if done.status != "completed":
            raise SystemExit(f"team {steps}: execution {done.status}: {done.error_message}")
    finally:
        await engine.stop()
        db.dispose()
    costs: list[StepCost] = []
    last_wall, last_cpu = started_wall, started_cpu
    for step_id, wall, cpu, calls in timed.marks:
        if costs and costs[-1].step_id == step_id:  # a reworked step: one more attempt
            cost = costs[-1]
            cost.wall_s += wall - last_wall
            cost.cpu_s += cpu - last_cpu
            cost.model_calls += calls
            cost.attempts += 1
        else:
            costs.append(StepCost(step_id, wall - last_wall, cpu - last_cpu, calls, 1))
        last_wall, last_cpu = wall, cpu
    totals = {
        "wall_s": round(total_wall, 2),
        "cpu_s": round(total_cpu, 2),
        "peak_rss_mb": peak_rss_mb(),
    }
    return costs, totals


def tenths(costs: list[StepCost]) -> list[dict[str, Any]]:
    size = max(1, len(costs) // 10)
    rows = []
    for start in range(0, len(costs), size):
        part = costs[start : start + size]
        rows.append(
            {
                "steps": f"{start + 1}-{start + len(part)}",
                "cpu_ms_per_step": round(statistics.mean(c.cpu_s for c in part) * 1000, 1),
                "wall_ms_per_step": round(statistics.mean(c.wall_s for c in part) * 1000, 1),
                "model_calls_per_step": round(statistics.mean(c.model_calls for c in part), 2),
                "attempts_per_step": round(statistics.mean(c.attempts for c in part), 2),
            }
        )
    return rows


async def main(as_json: bool, long_run: int = 200) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-bench-team-") as tmp:
        for name, steps in (("S1", 20), (f"pipeline {long_run}", long_run)):
            costs, totals = await run_team(steps, Path(tmp))
            rows = tenths(costs)
            first, last = rows[0]["cpu_ms_per_step"], rows[-1]["cpu_ms_per_step"]
            summary = {
                "scenario": "team",
                "run": name,
                "steps": steps,
                **totals,
                "cpu_ms_per_step": round(totals["cpu_s"] / steps * 1000, 1),
                "wall_ms_per_step": round(totals["wall_s"] / steps * 1000, 1),
                "last_tenth_to_first": round(last / first, 2) if first else None,
                "tenths": rows,
            }
            if as_json:
                print(json.dumps(summary), flush=True)
                continue
            print(
                f"team {name}: {steps} steps, wall {totals['wall_s']} s, CPU {totals['cpu_s']} s "
                f"({summary['cpu_ms_per_step']} ms/step), peak RSS {totals['peak_rss_mb']} MB, "
                f"last tenth / first tenth (CPU per step) {summary['last_tenth_to_first']}",
                flush=True,
            )
            for row in rows:
                print(
                    f"  steps {row['steps']:>9}: CPU {row['cpu_ms_per_step']:7.1f} ms/step  "
                    f"wall {row['wall_ms_per_step']:7.1f} ms/step  "
                    f"model calls {row['model_calls_per_step']:.2f}/step  "
                    f"attempts {row['attempts_per_step']:.2f}/step",
                    flush=True,
                )
    if not as_json:
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print("targets: last tenth <= 1.2 x first tenth; <= 30 ms of CPU per step")


if __name__ == "__main__":
    asyncio.run(main(False))
