"""The agent runtime: the team's `StepPerformer`, which the engine calls for every attempt.

`assign` picks who does the step (see `assignment`). `perform` then runs the step:
- a `decision` step is decided by the team (see `decisions`);
- any other step goes to the agent's model with a prompt built from the agent, the team,
  the step, the results it builds on, the relevant team knowledge and a reviewer's
  feedback; the answer must validate as a `StepResult` (invalid output is retried with the
  validation error), and the agent may call the collaboration tools meanwhile.
A step with `reviewRequired` is then reviewed; a request for changes returns `rework` with
the reviewer's feedback, which the engine hands to the next attempt. Approved results'
insights become team knowledge. Usage of every model call (the coordinator's choice, the
answers of asked teammates, reviews and votes among them) is summed into the outcome.

Faults never escape: a spent budget fails the attempt for good (`retryable=False`); a model
that fails or never gives valid output fails it with a message saying so.
"""

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.toolsets import AbstractToolset
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, StepType
from accord.domain.errors import AccordError, BudgetExceeded, ModelFailure
from accord.domain.execution import Usage
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.ports import Assignment, AttemptContext, AttemptOutcome
from accord.domain.step_result import StepResult
from accord.domain.tools import WORKSPACE_TOOLKIT
from accord.llm import model_failure
from accord.storage.db import Database, data_dir
from accord.team.assignment import choose_agent
from accord.team.attempt import Attempt, ModelSource, Toolkit
from accord.team.decisions import decide
from accord.team.models import provider_models
from accord.team.prompts import knowledge_query, step_prompt
from accord.team.records import TeamRecords
from accord.team.review import review_result
from accord.team.tools import collaboration_tools
from accord.tools.workspace import FileAuthor, record_writes, workspace_toolset
from accord.tools.workspace_folder import Workspace

WORKSPACES_DIR = "workspaces"


def _workspace_toolkit(attempt: Attempt, agent: Agent) -> AbstractToolset[Any]:
    """The `workspace` toolkit over the execution's folder; each write is credited to the
    step and the agent (its calls are recorded like any tool call)."""
    ctx = attempt.ctx
    author = FileAuthor(ctx.execution_id, ctx.user_id, ctx.step.id, ctx.attempt, agent.id)
    return workspace_toolset(
        Workspace(attempt.workspace), on_write=record_writes(attempt.db, author)
    )


BUILT_IN_TOOLKITS: Mapping[str, Toolkit] = {WORKSPACE_TOOLKIT: _workspace_toolkit}
"""The toolkits of `accord.domain.tools.BUILTIN_TOOLKITS` this version provides. An agent
that names a toolkit missing here is told it is unavailable."""
KNOWLEDGE_PER_STEP = 5
_ENGINE_KEYS = frozenset({"childKey"})
"""Keys of the execution context the engine keeps for itself, not inputs for agents."""
OUTPUT_RETRIES = 2


class AgentTeam:
    """Implements `accord.domain.ports.StepPerformer` over a database and agents' models."""

    def __init__(
        self,
        db: Database,
        *,
        models: ModelSource | None = None,
        output_retries: int = OUTPUT_RETRIES,
        question_poll_seconds: float = 0.5,
        workspaces: Path | None = None,
        toolkits: Mapping[str, Toolkit] | None = None,
    ) -> None:
        """`models` gives each agent's model; by default its provider's (see `team.models`).
        `workspaces`: where executions' workspace folders go (default: the data directory's
        `workspaces`); `toolkits`: the built-in toolkits agents may name (`BUILT_IN_TOOLKITS`
        by default)."""
        self.toolkits = BUILT_IN_TOOLKITS if toolkits is None else toolkits
        self.db = db
        self.workspaces = workspaces or data_dir() / WORKSPACES_DIR
        self.models = models or provider_models(db)
        self.output_retries = output_retries
        self.question_poll_seconds = question_poll_seconds
        self._assignment_usage: dict[tuple[str, str, int], Usage] = {}
        """Usage of the coordinator's choice, carried from `assign` into `perform`'s outcome."""

    def _attempt(self, ctx: AttemptContext) -> Attempt:
        with self.db.session() as session:
            members = TeamRecords(session).agents(ctx.plan.participants, user_id=ctx.user_id)
        return Attempt(
            ctx=ctx,
            db=self.db,
            models=self.models,
            team={a.id: a for a in members},
            output_retries=self.output_retries,
            workspaces=self.workspaces,
            toolkits=self.toolkits,
        )

    async def assign(self, ctx: AttemptContext) -> Assignment:
        attempt = self._attempt(ctx)
        if not attempt.team:
            raise AccordError("none of the workflow's participating agents exists any more")
        try:
            return await choose_agent(attempt)
        finally:
            self._assignment_usage[(ctx.execution_id, ctx.step.id, ctx.attempt)] = attempt.usage
            await attempt.close()

    async def perform(self, ctx: AttemptContext) -> AttemptOutcome:
        attempt = self._attempt(ctx)
        attempt.usage = self._assignment_usage.pop(
            (ctx.execution_id, ctx.step.id, ctx.attempt), Usage()
        )
        try:
            outcome = await self._outcome(attempt)
        finally:
            await attempt.close()
        return replace(
            outcome,
            output_mode=attempt.output_modes.get(ctx.agent_id or ""),
            validation_retries=attempt.validation_retries,
            tool_calls=attempt.tool_calls,
        )

    async def _outcome(self, attempt: Attempt) -> AttemptOutcome:
        ctx = attempt.ctx
        try:
            if ctx.agent_id not in attempt.team:
                return AttemptOutcome(
                    status="failed",
                    retryable=False,
                    error=f"agent {ctx.agent_id!r} does not take part in this workflow",
                )
            return await self._perform(attempt)
        except BudgetExceeded as exc:
            return AttemptOutcome(
                status="failed", error=exc.message, retryable=False, usage=attempt.usage
            )
        except AccordError as exc:
            if isinstance(exc, ModelFailure):
                return self._model_failed(attempt, exc, exc)
            return AttemptOutcome(
                status="failed", usage=attempt.usage, error=f"{_agent_name(attempt)}: {exc.message}"
            )
        except Exception as exc:
            failure = model_failure(exc)
            if failure is None:
                raise
            return self._model_failed(attempt, failure, exc)

    def _model_failed(
        self, attempt: Attempt, failure: ModelFailure, exc: BaseException
    ) -> AttemptOutcome:
        """A failed attempt, retried only when the model's fault may pass (a rate limit, a
        server error), not when asking again must fail the same way (a rejected API key, a
        provider without a base URL)."""
        if isinstance(exc, UnexpectedModelBehavior):
            message = (
                f"{_agent_name(attempt)}'s model gave no valid answer after "
                f"{self.output_retries} retries: {failure.message}"
            )
        else:
            message = f"{_agent_name(attempt)}: {failure.message}"
        return AttemptOutcome(
            status="failed",
            error=message,
            usage=attempt.usage,
            retryable=bool(failure.details.get("transient", True)),
        )

    async def _perform(self, attempt: Attempt) -> AttemptOutcome:
        ctx = attempt.ctx
        if ctx.step.type is StepType.DECISION:
            result = await decide(attempt)
        else:
            result = await self._run_agent(attempt)
        if ctx.step.review_required and ctx.step.type is not StepType.DECISION:
            verdict = await review_result(attempt, result)
            if verdict is not None and verdict.verdict == "request_changes":
                return AttemptOutcome(
                    status="rework",
                    result=result.to_json_dict(),
                    feedback=verdict.feedback,
                    usage=attempt.usage,
                )
        if attempt.coordination.knowledge_sharing and result.insights:
            await self._share_insights(attempt, result)
        return AttemptOutcome(status="completed", result=result.to_json_dict(), usage=attempt.usage)

    async def _run_agent(self, attempt: Attempt) -> StepResult:
        ctx = attempt.ctx
        agent = attempt.agent
        knowledge = []
        if attempt.coordination.knowledge_sharing:
            found = await attempt.write_session(
                "knowledge:retrieve", lambda session: _retrieve(attempt, session)
            )
            knowledge = [CollaborationKnowledge.model_validate(k) for k in found]
        tools = collaboration_tools(attempt, poll_seconds=self.question_poll_seconds)
        toolsets = attempt.agent_toolsets(agent)
        unavailable = await attempt.prepare_tools(toolsets)
        return await attempt.run_model(
            agent,
            output_type=StepResult,
            tools=tools,
            toolsets=toolsets,
            instructions=attempt.instructions_for(agent, tools=True),
            prompt=step_prompt(
                ctx.step,
                dependency_results=ctx.dependency_results,
                knowledge=knowledge,
                feedback=ctx.feedback,
                inputs={k: v for k, v in ctx.execution_context.items() if k not in _ENGINE_KEYS},
                own_tools=[name for t in toolsets for name in t.tool_names()],
                workspace=str(attempt.workspace) if toolsets else None,
                unavailable=unavailable,
            ),
        )

    async def _share_insights(self, attempt: Attempt, result: StepResult) -> None:
        ctx = attempt.ctx
        agent = attempt.agent

        def share(records: TeamRecords) -> list[str]:
            kb = attempt.knowledge(records.session)
            ids = []
            for insight in result.insights:
                entry = kb.share(
                    agent_id=agent.id,
                    title=insight.title,
                    content=insight.content,
                    knowledge_type=insight.knowledge_type,
                    tags=insight.tags,
                    subject=insight.subject,
                    relevance_score=result.confidence,
                    step_id=ctx.step.id,
                )
                ids.append(entry.id)
            attempt.add_interaction(
                records,
                sender=agent,
                kind=InteractionType.KNOWLEDGE_SHARING,
                message=f"Shared {len(ids)} insight(s) from '{ctx.step.name}'",
                context={"knowledgeIds": ids},
            )
            return ids

        await attempt.write("knowledge:insights", share)


def _retrieve(attempt: Attempt, session: Session) -> list[dict[str, Any]]:
    """The step's top knowledge entries; each handed over counts one use."""
    found = attempt.knowledge(session).use(
        knowledge_query(attempt.ctx.step), limit=KNOWLEDGE_PER_STEP
    )
    return [k.to_json_dict() for k in found]


def _agent_name(attempt: Attempt) -> str:
    agent = attempt.team.get(attempt.ctx.agent_id or "")
    return agent.name if agent else "the agent"
