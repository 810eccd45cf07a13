"""Team test helpers: scripted models, the engine's two ports as plain doubles, a crew.

`Script` feeds a pydantic-ai `FunctionModel` one turn per model request: a dict is the
final answer (the output tool's arguments), `call(...)` a tool call, `slow(...)` a turn that
takes its time, a callable decides from the messages. Every scripted request reports 100
input and 10 output tokens, priced at $1 / $2 per million, so usage sums are exact.
"""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from accord.domain.agent import Agent
from accord.domain.enums import StepRunStatus
from accord.domain.execution import Usage
from accord.domain.plan import WorkflowPlan
from accord.domain.ports import AttemptContext, ChildResult
from accord.storage.db import Database
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam

T = TypeVar("T")
TOKENS_IN, TOKENS_OUT = 100, 10


def price(tokens_in: int, tokens_out: int) -> float:
    return tokens_in * 1e-6 + tokens_out * 2e-6


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]


def call(tool: str, **args: Any) -> Call:
    return Call(tool, args)


@dataclass(frozen=True)
class Slow:
    seconds: float
    then: Any


def slow(seconds: float, then: Any) -> Slow:
    return Slow(seconds, then)


class Script:
    """The turns one agent's model plays, in order; records what it was sent. A list of
    `call(...)` is one response asking for several tool calls at once."""

    def __init__(self, *turns: Any) -> None:
        self.turns = list(turns)
        self.requests: list[list[ModelMessage]] = []
        self.instructions: list[str | None] = []
        self.offered: list[list[str]] = []
        """The function tools each request offered, by name."""

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests.append(messages)
        self.instructions.append(info.instructions)
        self.offered.append([t.name for t in info.function_tools])
        assert self.turns, f"the script ran out of turns after {len(self.requests) - 1} requests"
        turn = self.turns.pop(0)
        if isinstance(turn, Slow):
            await asyncio.sleep(turn.seconds)
            turn = turn.then
        if callable(turn) and not isinstance(turn, Call | list):
            turn = turn(messages, info)
        if isinstance(turn, Call):
            parts = [ToolCallPart(turn.tool, turn.args)]
        elif isinstance(turn, list):
            parts = [ToolCallPart(c.tool, c.args) for c in turn]
        else:
            parts = [ToolCallPart(info.output_tools[0].name, turn)]
        return ModelResponse(
            parts=parts, usage=RequestUsage(input_tokens=TOKENS_IN, output_tokens=TOKENS_OUT)
        )

    def prompt_text(self, request: int = 0) -> str:
        """Everything the model was sent in one request, instructions included."""
        parts = [self.instructions[request] or ""]
        for message in self.requests[request]:
            parts.extend(str(getattr(p, "content", "")) for p in message.parts)
        return "\n".join(parts)


class Durable:
    """The engine's `DurableCalls` as DBOS behaves: each call's result is recorded as JSON,
    by position; given the records of an earlier run (`replaying`), calls return those
    instead of running again, as after a crash."""

    def __init__(self, replaying: list[tuple[str, str]] | None = None) -> None:
        self.names: list[str] = []
        self.records: list[tuple[str, str]] = []
        self.replaying = list(replaying or [])
        self.running = 0
        self.overlapped = False

    async def call(self, name: str, fn: Callable[[], Awaitable[T]]) -> T:
        self.names.append(name)
        if self.replaying:
            recorded_name, recorded = self.replaying.pop(0)
            assert recorded_name == name, f"replay out of order: {name} for {recorded_name}"
            return json.loads(recorded)
        self.running += 1
        self.overlapped |= self.running > 1
        try:
            result = await fn()
        finally:
            self.running -= 1
        self.records.append((name, json.dumps(result)))
        return json.loads(self.records[-1][1])


@dataclass
class Children:
    """The engine's `ChildExecutions`: each delegation is answered by `answer`."""

    delegated: list[dict[str, Any]] = field(default_factory=list)
    answer: str = "sub-task done"
    """The child's deliverable (its final output is the map of its steps' results)."""
    started: list[str] = field(default_factory=list)
    """The IDs of the child executions handed back."""
    while_running: Callable[[str], None] | None = None
    """Called with the child's ID between its start and its answer (to look at the records
    as they are while the teammate works)."""

    async def run_workflow(self, workflow_id: str, *, inputs: Mapping[str, Any]) -> ChildResult:
        return ChildResult(
            execution_id=str(uuid.uuid4()),
            status="completed",
            final_output={"output": f"ran {workflow_id}"},
        )

    async def delegate(
        self,
        *,
        agent_id: str,
        title: str,
        instructions: str,
        expected_output: str,
        on_started: Callable[[str], Awaitable[None]] | None = None,
    ) -> ChildResult:
        self.delegated.append({"agentId": agent_id, "title": title})
        self.started.append(str(uuid.uuid4()))
        if on_started is not None:
            await on_started(self.started[-1])
        if self.while_running is not None:
            self.while_running(self.started[-1])
        return ChildResult(
            execution_id=self.started[-1],
            status="completed",
            final_output={"delegated_task": {"output": self.answer}},
            deliverable=self.answer,
        )


AgentSpec = tuple[str, str, list[str]]
DEFAULT_AGENTS: list[AgentSpec] = [
    ("Ada", "developer", ["python", "sql"]),
    ("Grace", "reviewer", ["code review", "testing"]),
    ("Linus", "coordinator", ["planning"]),
]


@dataclass
class Crew:
    """A user's agents in one workflow with one running execution."""

    db: Database
    user_id: str
    agents: dict[str, Agent]
    workflow_id: str
    execution_id: str
    plan: WorkflowPlan
    scripts: dict[str, Script] = field(default_factory=dict)
    durable: Durable = field(default_factory=Durable)
    children: Children = field(default_factory=Children)
    workspaces: Path = Path("workspaces")
    """Where the team's executions get their workspace folders (the test's own folder)."""

    def id(self, name: str) -> str:
        return self.agents[name].id

    def team(self, **kwargs: Any) -> AgentTeam:
        def model_for(agent: Agent) -> AgentModel:
            script = self.scripts.setdefault(agent.name, Script())
            return AgentModel(FunctionModel(script), cost_usd=price)

        kwargs.setdefault("workspaces", self.workspaces)
        return AgentTeam(self.db, models=model_for, question_poll_seconds=0.02, **kwargs)

    def script(self, name: str, *turns: Any) -> Script:
        self.scripts[name] = Script(*turns)
        return self.scripts[name]

    def ctx(
        self,
        step_id: str,
        *,
        agent: str | None = None,
        attempt: int = 1,
        feedback: str | None = None,
        dependency_results: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> AttemptContext:
        """A started attempt at `step_id` (its step run is in the database)."""
        agent_id = self.id(agent) if agent else None
        with self.db.session() as s:
            runs = StepRunRepository(s)
            run = runs.create(execution_id=self.execution_id, step_id=step_id, attempt=attempt)
            run = runs.start(run, agent_id=agent_id, executor_id="test")
        return AttemptContext(
            execution_id=self.execution_id,
            workflow_id=self.workflow_id,
            user_id=self.user_id,
            plan=self.plan,
            step=self.plan.by_id[step_id].step,
            attempt=attempt,
            step_run_id=run.id,
            dependency_results=dependency_results or {},
            feedback=feedback,
            depth=0,
            durable=self.durable,
            children=self.children,
            agent_id=agent_id,
            execution_context=inputs or {},
        )

    def spend(self, step_id: str, usage: Usage, *, agent: str | None = None) -> None:
        """An earlier attempt of this execution that used `usage`."""
        with self.db.session() as s:
            runs = StepRunRepository(s)
            run = runs.create(execution_id=self.execution_id, step_id=step_id, attempt=99)
            run = runs.start(run, agent_id=self.id(agent) if agent else None, executor_id="t")
            runs.finish(run, StepRunStatus.COMPLETED, usage=usage)


def answer(summary: str = "done", output: str = "the deliverable", **extra: Any) -> dict[str, Any]:
    """A valid StepResult as a model would send it."""
    return {"summary": summary, "output": output, **extra}
