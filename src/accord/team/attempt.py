"""One step attempt as the team sees it: who is on the team, what was spent, how to call a model.

Two rules hold everything durable (see `DurableCalls`): every model request and every write
the team makes runs as one `ctx.durable.call`, and they run one after another, never from
racing coroutines (pydantic-ai is told to run tool calls sequentially). After a crash the
engine replays the recorded results in the same order instead of calling or writing again.

Every model call degrades per model (see `accord.llm.output_modes`): it tries the agent's
output modes in order, a mode that fails for its shape falling to the next, and tells the
model source which mode worked so that the next call starts there.
"""

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_ai import Agent as ModelAgent
from pydantic_ai import Tool, capture_run_messages
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelResponse,
    RetryFeedbackPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType
from accord.domain.errors import BudgetExceeded, ModelFailure
from accord.domain.events import EventKind, ToolCalled
from accord.domain.execution import TextDelta, Usage
from accord.domain.ports import ApprovalRequest, AttemptContext
from accord.domain.tools import McpServer
from accord.domain.workflow import Constraints, Coordination
from accord.llm import (
    OUTPUT_MODES,
    OutputMode,
    close_model,
    mode_failure,
    model_for_mode,
    output_spec,
    text_mode_hint,
)
from accord.llm.streaming import TextPiece, TextTap, observing
from accord.storage.db import Database
from accord.storage.live_text import LiveText
from accord.storage.repositories.mcp_servers import McpServerRepository
from accord.team.knowledge import KnowledgeBase
from accord.team.prompts import agent_instructions
from accord.team.records import TeamRecords
from accord.team.sources import Source
from accord.telemetry import metrics, tracing
from accord.tools.attempt_tools import AttemptTools
from accord.tools.durable import (
    Approver,
    Decision,
    DurableToolset,
    ToolCallRecord,
    ToolCallRequest,
    ToolLimits,
)
from accord.tools.workspace_folder import open_workspace

ENGINE_KEYS = frozenset({"childKey", "delegatedTask"})
"""Keys of the execution context the engine keeps for itself, not inputs for agents (a
delegated task's step carries the task itself)."""
OutputT = TypeVar("OutputT", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class AgentModel:
    """The model that speaks for an agent, and what its tokens cost."""

    model: Model
    cost_usd: Callable[[int, int], float] = lambda _input, _output: 0.0
    """US dollars for (input tokens, output tokens) of one call."""
    output_modes: Sequence[OutputMode] = ("tool",)
    """The output modes to try, in order (a fixed mode is the only one). A provider's
    models get theirs from its settings; the offline model and test doubles answer in
    tool mode."""
    remember_mode: Callable[[OutputMode, str], None] | None = None
    """Called with the mode that worked and why the ones before it did not, when that is
    news; the provider keeps it so the next call starts there."""
    mode_failed: Callable[[OutputMode, str], None] | None = None
    """Called as soon as a mode fails, so that models built meanwhile (a teammate asked a
    question during the run) start below it instead of failing the same way."""


ModelSource = Callable[[Agent], AgentModel]
"""How the team gets an agent's model (normally `accord.llm`, a scripted model in tests)."""

Toolkit = Callable[["Attempt", Agent], AbstractToolset[Any]]
"""Builds a built-in toolkit (e.g. `workspace`) for an agent in an attempt (which knows the
workspace folder, the database and the step); its calls are recorded like a server's."""


@dataclass
class Attempt:
    """The state of one `perform` (or `assign`): shared by the runtime, tools, reviews and
    decisions of that attempt."""

    ctx: AttemptContext
    db: Database
    models: ModelSource
    team: dict[str, Agent]
    """The workflow's participants that exist, by ID, in participation order."""
    output_retries: int
    workspaces: Path
    """The folder under which each execution gets its workspace folder (named by its ID)."""
    toolkits: Mapping[str, "Toolkit"] = field(default_factory=dict)
    """The built-in toolkits this team provides, by name (see `Toolkit`)."""
    usage: Usage = field(default_factory=Usage)
    output_modes: dict[str, OutputMode] = field(default_factory=dict)
    """Agent ID -> the output mode of its last model run in this attempt."""
    validation_retries: int = 0
    """Answers sent back to a model because they did not validate, over all its runs."""
    tool_calls: int = 0
    """Function tools the models called (collaboration tools), over all runs."""
    sources: list[Source] = field(default_factory=list)
    """What the agent's collaboration brought in, cited in its deliverable."""
    shared_knowledge: list[str] = field(default_factory=list)
    """Knowledge entries this attempt wrote with the tool; its review settles their status."""
    live: LiveText | None = None
    """Where what the agents write goes while they write it (None: not streamed)."""
    model_calls: dict[str, int] = field(default_factory=dict)
    """Agent ID -> model calls streamed so far in this attempt (numbers each call's text)."""
    _agent_models: dict[str, AgentModel] = field(default_factory=dict)
    _tools: AttemptTools | None = None

    @property
    def coordination(self) -> Coordination:
        return self.ctx.plan.configuration.coordination

    @property
    def constraints(self) -> Constraints:
        return self.ctx.plan.configuration.constraints

    @property
    def inputs(self) -> dict[str, Any]:
        """The execution's inputs, as agents see them."""
        return {k: v for k, v in self.ctx.execution_context.items() if k not in ENGINE_KEYS}

    @property
    def coordinator(self) -> Agent | None:
        agent_id = self.ctx.plan.coordinator_agent_id
        return self.team.get(agent_id) if agent_id else None

    @property
    def agent(self) -> Agent:
        """The agent doing this attempt (set by the engine from `assign`)."""
        assert self.ctx.agent_id is not None, "perform is called after assign"
        return self.team[self.ctx.agent_id]

    def find_teammate(self, name_or_id: str) -> Agent | None:
        """A participant by ID, name or role (case-insensitive), in that order."""
        key = name_or_id.strip()
        if key in self.team:
            return self.team[key]
        for attr in ("name", "role"):
            for agent in self.team.values():
                if getattr(agent, attr).strip().lower() == key.lower():
                    return agent
        return None

    async def write(self, name: str, fn: Callable[[TeamRecords], T]) -> T:
        """Run one write transaction as a durable call; `fn` returns JSON-able data only."""

        async def transaction() -> T:
            def run() -> T:
                with self.db.session() as session:
                    return fn(TeamRecords(session))

            return await asyncio.to_thread(run)

        return await self.ctx.durable.call(name, transaction)

    async def write_session(self, name: str, fn: Callable[[Session], T]) -> T:
        """As `write`, for code that needs the session itself (the knowledge base)."""
        return await self.write(name, lambda records: fn(records.session))

    @cached_property
    def workspace(self) -> Path:
        """The execution's workspace folder, created (`${WORKSPACE}` in a server's
        declaration): its own, the one its workflow or run names, or its parent's sub-folder."""
        with self.db.read_session() as session:
            return open_workspace(session, self.ctx.execution_id, workspaces=self.workspaces).root

    def agent_toolsets(self, agent: Agent) -> list[DurableToolset]:
        """The servers, toolkits and function tools `agent`'s allow-list reaches, wrapped so
        that every call is limited, recorded, reported as a `tool.called` event and counted in
        the usage. Raises `FunctionToolMissing` for a function tool this process lacks."""
        if not agent.tools:
            return []
        if self._tools is None:
            c = self.constraints
            configuration = self.ctx.plan.configuration
            self._tools = AttemptTools(
                servers=self._servers(configuration.mcp_servers),
                toolkit_settings=configuration.toolkits,
                functions=configuration.function_tools,
                workspace=self.workspace,
                execution_id=self.ctx.execution_id,
                durable=self.ctx.durable,
                limits=ToolLimits(
                    max_calls=c.max_tool_calls_per_step,
                    timeout_seconds=c.tool_call_timeout_seconds,
                    max_result_chars=c.max_tool_result_chars,
                ),
                toolkits={
                    name: partial(toolkit, self, agent) for name, toolkit in self.toolkits.items()
                },
            )

        async def report(call: ToolCallRecord) -> None:
            self.usage += Usage(tool_calls=1, tool_seconds=call.duration_ms / 1000)
            await self.write("tool:called", lambda records: self._tool_event(records, agent, call))

        approve = self._approver(agent)
        return [
            replace(toolset, approve=approve)
            for toolset in self._tools.for_agent(agent.tools, sink=report)
        ]

    def _servers(self, declared: Mapping[str, McpServer]) -> Mapping[str, McpServer]:
        """The workflow's servers with each `{saved: NAME}` entry replaced by the owner's saved
        server (secrets in clear, for the tools runtime only)."""
        if all(server.saved is None for server in declared.values()):
            return declared
        with self.db.read_session() as session:
            return McpServerRepository(session).resolve(declared, user_id=self.ctx.user_id)

    def _approver(self, agent: Agent) -> Approver:
        """A call of a tool marked `requireApproval` waits for a user's decision: a durable
        wait in the engine (`ctx.approvals`), recorded as an approval of `agent`'s call."""

        async def approve(request: ToolCallRequest) -> Decision:
            approval = await self.ctx.approvals.wait_for_approval(
                ApprovalRequest(
                    agent_id=agent.id,
                    server=request.server,
                    tool=request.tool,
                    arguments=request.arguments,
                )
            )
            return Decision(approved=approval.approved, reason=approval.reason)

        return approve

    async def prepare_tools(self, toolsets: list[DurableToolset]) -> list[str]:
        """See `AttemptTools.prepare`."""
        return await self._tools.prepare(toolsets) if self._tools else []

    def _tool_event(self, records: TeamRecords, agent: Agent, call: ToolCallRecord) -> None:
        ctx = self.ctx
        records.events.append(
            execution_id=ctx.execution_id,
            user_id=ctx.user_id,
            kind=EventKind.TOOL_CALLED,
            step_id=ctx.step.id,
            data=ToolCalled(
                stepId=ctx.step.id,
                attempt=ctx.attempt,
                agentId=agent.id,
                agentName=agent.name,
                server=call.server,
                tool=call.tool,
                arguments=call.arguments,
                resultExcerpt=call.result_excerpt,
                durationMs=call.duration_ms,
                error=call.error,
            ),
        )

    def instructions_for(self, agent: Agent, *, tools: bool = False) -> str:
        """The agent's system instructions within this team."""
        return agent_instructions(
            agent, team=self.team.values(), style=self.coordination.communication_style, tools=tools
        )

    def add_interaction(
        self,
        records: TeamRecords,
        *,
        sender: Agent,
        kind: InteractionType,
        message: str,
        to: Agent | None = None,
        context: dict[str, Any] | None = None,
        requires_response: bool = False,
        deadline: float | None = None,
        to_user: bool = False,
        related_task_id: str | None = None,
    ) -> dict[str, Any]:
        """Record an interaction about this attempt's step (inside a `write`); its context
        always names the step and the attempt."""
        ctx = self.ctx
        metrics.INTERACTIONS.labels(str(kind)).inc()
        tracing.interaction(
            str(kind),
            sender=sender.id,
            recipient=to.id if to else None,
            step_id=ctx.step.id,
            requires_response=requires_response,
        )
        return records.add_interaction(
            execution_id=ctx.execution_id,
            user_id=ctx.user_id,
            from_agent_id=sender.id,
            to_agent_id=to.id if to else None,
            to_user_id=ctx.user_id if to_user else None,
            interaction_type=kind,
            message=message,
            step_id=ctx.step.id,
            related_task_id=related_task_id,
            context={"stepId": ctx.step.id, "attempt": ctx.attempt, **(context or {})},
            requires_response=requires_response,
            deadline=deadline,
        ).to_json_dict()

    async def record(self, name: str, **interaction: Any) -> dict[str, Any]:
        """`add_interaction` as a durable write of its own."""
        return await self.write(name, lambda records: self.add_interaction(records, **interaction))

    def knowledge(self, session: Session) -> KnowledgeBase:
        """The workflow's knowledge base, recording changes as this execution's events."""
        return KnowledgeBase(
            session,
            workflow_id=self.ctx.workflow_id,
            user_id=self.ctx.user_id,
            execution_id=self.ctx.execution_id,
            step_id=self.ctx.step.id,
        )

    @property
    def budgeted(self) -> bool:
        return self.constraints.budget_tokens is not None or self.constraints.budget_usd is not None

    def check_budget(self) -> None:
        """Refuse a model call once the execution has spent its token or dollar budget, counting
        what the attempts running beside this one have used so far (`share_usage`)."""
        limits = self.constraints
        if not self.budgeted:
            return
        with self.db.read_session() as session:
            spent = (
                TeamRecords(session).execution_usage(
                    self.ctx.execution_id, excluding_step_run=self.ctx.step_run_id
                )
                + self.usage
            )
        if limits.budget_tokens is not None and spent.total_tokens >= limits.budget_tokens:
            raise BudgetExceeded(
                f"Token budget exceeded: the execution has used {spent.total_tokens} of its "
                f"{limits.budget_tokens} tokens (constraints.budgetTokens); raise the budget "
                "to continue.",
                details={"usedTokens": spent.total_tokens, "budgetTokens": limits.budget_tokens},
            )
        if limits.budget_usd is not None and spent.cost_usd >= limits.budget_usd:
            raise BudgetExceeded(
                f"Cost budget exceeded: the execution has spent ${spent.cost_usd:.4f} of its "
                f"${limits.budget_usd:.4f} (constraints.budgetUsd); raise the budget to continue.",
                details={"usedUsd": spent.cost_usd, "budgetUsd": limits.budget_usd},
            )

    async def share_usage(self) -> None:
        """Under a budget, put this attempt's usage so far on its step run after each model
        call, so that parallel attempts count it at their next call, not only once this one
        has ended (which let a fan-out spend several times its budget)."""
        if not self.budgeted:
            return

        def write() -> None:
            with self.db.session() as session:
                TeamRecords(session).note_running_usage(self.ctx.step_run_id, self.usage)

        await asyncio.to_thread(write)

    def _source(self, agent: Agent) -> AgentModel:
        """The agent's model for this attempt (built once per attempt: one HTTP client)."""
        if agent.id not in self._agent_models:
            self._agent_models[agent.id] = self.models(agent)
        return self._agent_models[agent.id]

    async def close(self) -> None:
        """Close the models' connections and the MCP sessions: the attempt is over."""
        for source in self._agent_models.values():
            await close_model(source.model)
        self._agent_models.clear()
        if self._tools is not None:
            await self._tools.close()

    def metered(
        self, agent: Agent, *, mode: OutputMode = "tool", deadline: float | None = None
    ) -> "MeteredModel":
        source = self._source(agent)
        return MeteredModel(
            self, agent, source, model_for_mode(mode, source.model), deadline=deadline
        )

    async def run_model(
        self,
        agent: Agent,
        *,
        instructions: str,
        prompt: str,
        output_type: type[OutputT],
        tools: Sequence[Tool[None]] = (),
        toolsets: Sequence[AbstractToolset[None]] = (),
        deadline: float | None = None,
    ) -> OutputT:
        """Run `agent`'s model until it returns a valid `output_type` (invalid output is sent
        back with the validation error, `output_retries` times), in the first of its output
        modes that works."""
        source = self._source(agent)

        ladder = list(source.output_modes)
        if source.remember_mode is not None:
            # Recorded, so that a replay after a crash walks the modes the first run walked
            # even if the provider has learnt a better starting mode since.
            async def modes() -> list[str]:
                return list(ladder)

            recorded = await self.ctx.durable.call(f"modes:{agent.id}", modes)
            ladder = [m for m in OUTPUT_MODES if m in recorded]
        failed: list[str] = []
        for mode in ladder:
            hint = "\n\n" + text_mode_hint(output_type) if mode == "text" else ""
            runner: ModelAgent[None, OutputT] = _model_agent(
                agent.name, mode, output_type, self.output_retries
            )
            try:
                with capture_run_messages() as messages:
                    result = await runner.run(
                        prompt,
                        model=self.metered(agent, mode=mode, deadline=deadline),
                        instructions=instructions + hint,
                        toolsets=[FunctionToolset(list(tools)), *toolsets],
                    )
            except Exception as exc:
                self._count(messages)  # what a failed mode cost counts too
                why = mode_failure(exc)
                if why is None:
                    raise
                failed.append(f"{mode}: {why}")
                if source.mode_failed is not None:
                    source.mode_failed(mode, why)
                if len(ladder) == 1:
                    raise
                if mode == ladder[-1]:
                    raise _no_mode_worked(agent, failed, exc) from exc
                continue
            self._count(messages)
            self.output_modes[agent.id] = mode
            if source.remember_mode is not None and len(source.output_modes) > 1:
                await asyncio.to_thread(source.remember_mode, mode, "; ".join(failed))
            return result.output
        raise AssertionError("an agent has at least one output mode")

    @contextmanager
    def watched(self, agent: Agent, params: ModelRequestParameters) -> Iterator[None]:
        """Model requests in the block stream what `agent` writes to the live channel, as
        `TextDelta`s tagged with this attempt (see `accord.llm.streaming`)."""
        live = self.live
        if live is None:
            yield
            return
        ctx = self.ctx

        def emit(piece: TextPiece) -> None:
            live.publish(
                TextDelta(
                    execution_id=ctx.execution_id,
                    user_id=ctx.user_id,
                    step_id=ctx.step.id,
                    attempt=ctx.attempt,
                    agent_id=agent.id,
                    agent_name=agent.name,
                    call=piece.call,
                    part=piece.part,
                    tool=piece.tool,
                    offset=piece.offset,
                    text=piece.text,
                )
            )

        tap = TextTap(
            emit=emit,
            output_tools=frozenset(tool.name for tool in params.output_tools),
            call=self.model_calls.get(agent.id, 0),
        )
        try:
            with observing(tap):
                yield
        finally:
            self.model_calls[agent.id] = tap.call

    def _count(self, messages: list[ModelMessage]) -> None:
        for message in messages:
            for part in message.parts:
                if isinstance(part, RetryFeedbackPart) or (
                    isinstance(part, ToolReturnPart) and part.outcome == "retried"
                ):
                    self.validation_retries += 1
                elif isinstance(part, ToolCallPart) and not part.tool_name.startswith(
                    "final_result"
                ):
                    self.tool_calls += 1


@lru_cache(maxsize=256)
def _model_agent(
    name: str, mode: OutputMode, output_type: type[OutputT], retries: int
) -> ModelAgent[None, OutputT]:
    """A pydantic-ai agent for one agent name, output mode and type, shared by the runs that
    need it: building one (its output schema) took milliseconds, several times a step. Each
    run brings its own model, instructions and tools."""
    return ModelAgent(
        output_type=output_spec(mode, output_type),
        name=name,
        retries={"output": retries, "tools": retries},
    )


def _no_mode_worked(agent: Agent, failed: list[str], last: Exception) -> ModelFailure:
    """Every mode tried failed: say how each did. Another attempt may do better only if the
    last mode failed on an answer (models vary), not on a server that refuses requests."""
    return ModelFailure(
        f"{agent.name}'s model gave no usable answer in any output mode: " + " | ".join(failed),
        details={"transient": not isinstance(last, ModelFailure), "noUsableAnswer": True},
    )


class MeteredModel(WrapperModel):
    """An agent's model whose every request is budget-checked, durable and metered."""

    def __init__(
        self,
        attempt: Attempt,
        agent: Agent,
        source: AgentModel,
        model: Model,
        *,
        deadline: float | None,
    ) -> None:
        super().__init__(model)
        self.attempt = attempt
        self.agent = agent
        self.cost_usd = source.cost_usd
        self.deadline = deadline

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        async def call() -> Any:
            # Only a call being made streams: a replay returns the recorded answer silently.
            self.attempt.check_budget()
            provider, model = self.system, self.model_name
            with (
                metrics.model_call(provider, model),
                self.attempt.watched(self.agent, model_request_parameters),
            ):
                pending = self.wrapped.request(messages, model_settings, model_request_parameters)
                if self.deadline is None:
                    response = await pending
                else:
                    left = max(0.0, self.deadline - time.time())
                    response = await asyncio.wait_for(pending, left)
            tokens_in, tokens_out = response.usage.input_tokens, response.usage.output_tokens
            metrics.model_usage(
                provider,
                model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost=self.cost_usd(tokens_in, tokens_out),
            )
            return ModelMessagesTypeAdapter.dump_python([response], mode="json")

        try:
            recorded = await self.attempt.ctx.durable.call(f"model:{self.agent.id}", call)
        except ModelFailure as failure:
            self._count_estimate(failure)
            raise
        response = ModelMessagesTypeAdapter.validate_python(recorded)[0]
        assert isinstance(response, ModelResponse)
        tokens_in, tokens_out = response.usage.input_tokens, response.usage.output_tokens
        self.attempt.usage += Usage(
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=self.cost_usd(tokens_in, tokens_out),
            model_calls=1,
        )
        await self.attempt.share_usage()
        return response

    def _count_estimate(self, failure: ModelFailure) -> None:
        """A request that timed out still cost tokens: count the LLM layer's estimate."""
        estimate = failure.details.get("estimatedUsage")
        if not isinstance(estimate, dict):
            return
        tokens_in, tokens_out = int(estimate["inputTokens"]), int(estimate["outputTokens"])
        self.attempt.usage += Usage(
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=self.cost_usd(tokens_in, tokens_out),
            model_calls=1,
        )
