"""The agent runtime: the team's `StepPerformer`, which the engine calls for every attempt.

`assign` picks who does the step (see `assignment`). `perform` then runs the step:
- a `decision` step is decided by the team (see `decisions`);
- any other step goes to the agent's model with a prompt built from the agent, the team,
  the step, the results it builds on, the relevant team knowledge and a reviewer's
  feedback; the answer must validate as a `StepResult` (invalid output is retried with the
  validation error), and the agent may call the collaboration tools meanwhile.
The prompt carries the coordinator's brief (what teammates already found and left open) and
who knows what (`briefing`); the deliverable gets a "Sources" section citing the questions,
answers, delegations, feedback and knowledge the agent used (`sources`).
A step with `reviewRequired` is then reviewed; a request for changes returns `rework` with
the reviewer's feedback, which the engine hands to the next attempt, and the knowledge the
attempt wrote is marked rejected; an approval marks it validated. A completed result's
insights become team knowledge (validated when a review approved them, unvalidated
otherwise; never twice what the agent already shared). Usage of every model call (the
coordinator's choice, the answers of asked teammates, reviews and votes among them) is
summed into the outcome.

Faults never escape: a spent budget fails the attempt for good (`retryable=False`); a model
that fails or never gives valid output fails it with a message saying so.
"""

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.toolsets import AbstractToolset
from sqlalchemy.orm import Session

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, KnowledgeStatus, StepType
from accord.domain.errors import AccordError, BudgetExceeded, ModelFailure
from accord.domain.execution import Usage
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.ports import Assignment, AttemptContext, AttemptOutcome
from accord.domain.step_result import StepResult
from accord.domain.tools import WORKSPACE_TOOLKIT
from accord.llm import model_failure
from accord.storage.db import Database, data_dir
from accord.storage.faults import DatabaseUnavailable, StorageFull
from accord.storage.live_text import live_text
from accord.team.assignment import choose_agent
from accord.team.attempt import Attempt, ModelSource, Toolkit
from accord.team.briefing import team_context
from accord.team.decisions import decide
from accord.team.knowledge import subject_of
from accord.team.models import provider_models
from accord.team.prompts import knowledge_query, step_prompt, team_brief
from accord.team.records import TeamRecords
from accord.team.review import review_result
from accord.team.sources import Source, render_sources
from accord.team.tools import collaboration_tools
from accord.tools.functions import FunctionToolMissing
from accord.tools.workspace import FileAuthor, record_writes, workspace_toolset
from accord.tools.workspace_folder import Workspace

WORKSPACES_DIR = "workspaces"
STREAM_TEXT_ENV = "ACCORD_STREAM_TEXT"


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
        stream_text: bool | None = None,
    ) -> None:
        """`models` gives each agent's model; by default its provider's (see `team.models`).
        `workspaces`: where executions' workspace folders go (default: the data directory's
        `workspaces`); `toolkits`: the built-in toolkits agents may name (`BUILT_IN_TOOLKITS`
        by default); `stream_text`: whether what agents write is sent live as they write it
        (`accord.storage.live_text`; default: on unless `ACCORD_STREAM_TEXT` is `off`)."""
        self.live = live_text(db) if _streaming(stream_text) else None
        self.toolkits = BUILT_IN_TOOLKITS if toolkits is None else toolkits
        self.db = db
        self.workspaces = workspaces or data_dir() / WORKSPACES_DIR
        self.models = models or provider_models(db)
        self.output_retries = output_retries
        self.question_poll_seconds = question_poll_seconds
        self._assignment_usage: dict[tuple[str, str, int], Usage] = {}
        """Usage of the coordinator's choice, carried from `assign` into `perform`'s outcome."""

    def _attempt(self, ctx: AttemptContext) -> Attempt:
        with self.db.read_session() as session:
            members = TeamRecords(session).agents(ctx.plan.participants, user_id=ctx.user_id)
        return Attempt(
            ctx=ctx,
            db=self.db,
            models=self.models,
            team={a.id: a for a in members},
            output_retries=self.output_retries,
            workspaces=self.workspaces,
            toolkits=self.toolkits,
            live=self.live,
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
        except (DatabaseUnavailable, StorageFull):
            raise  # the database's fault, not the step's: the engine suspends the attempt
        except FunctionToolMissing as exc:  # no retry in this process can find it
            return AttemptOutcome(
                status="failed",
                error=f"{_agent_name(attempt)}: {exc.message}",
                retryable=False,
                usage=attempt.usage,
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
        reviewers: list[str] = []
        if ctx.step.review_required and ctx.step.type is not StepType.DECISION:
            review = await review_result(attempt, result)
            if review is not None and review.verdict.verdict == "request_changes":
                await _settle_knowledge(attempt, KnowledgeStatus.REJECTED, review.reviewer_ids)
                return AttemptOutcome(
                    status="rework",
                    result=result.to_json_dict(),
                    feedback=review.verdict.feedback,
                    usage=attempt.usage,
                )
            if review is not None:
                reviewers = review.reviewer_ids
                await _settle_knowledge(attempt, KnowledgeStatus.VALIDATED, reviewers)
        if attempt.coordination.knowledge_sharing and result.insights:
            await self._share_insights(attempt, result, reviewers)
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
        context = await attempt.write_session(
            "team:context", lambda session: team_context(attempt, session)
        )
        coordinator = attempt.coordinator
        tools = collaboration_tools(attempt, poll_seconds=self.question_poll_seconds)
        toolsets = attempt.agent_toolsets(agent)
        unavailable = await attempt.prepare_tools(toolsets)
        result = await attempt.run_model(
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
                inputs=attempt.inputs,
                brief=team_brief(context, coordinator=coordinator.name if coordinator else None),
                authors={a.id: a.name for a in attempt.team.values()},
                own_tools=[name for t in toolsets for name in t.tool_names()],
                workspace=str(attempt.workspace) if toolsets else None,
                unavailable=unavailable,
            ),
        )
        return _with_sources(attempt, result, knowledge)

    async def _share_insights(
        self, attempt: Attempt, result: StepResult, reviewers: list[str]
    ) -> None:
        ctx = attempt.ctx
        agent = attempt.agent
        status = KnowledgeStatus.VALIDATED if reviewers else KnowledgeStatus.UNVALIDATED

        def share(records: TeamRecords) -> list[str]:
            kb = attempt.knowledge(records.session)
            shared = {kb.get(i).subject for i in attempt.shared_knowledge}
            ids = []
            for insight in result.insights:
                if subject_of(insight.title, insight.subject) in shared:
                    continue  # the agent shared it with the tool already
                entry = kb.share(
                    agent_id=agent.id,
                    title=insight.title,
                    content=insight.content,
                    knowledge_type=insight.knowledge_type,
                    tags=insight.tags,
                    subject=insight.subject,
                    relevance_score=result.confidence,
                    step_id=ctx.step.id,
                    status=status,
                    validated_by=reviewers,
                )
                ids.append(entry.id)
            if not ids:
                return ids
            attempt.add_interaction(
                records,
                sender=agent,
                kind=InteractionType.KNOWLEDGE_SHARING,
                message=f"Shared {len(ids)} insight(s) from '{ctx.step.name}'",
                context={"knowledgeIds": ids},
            )
            return ids

        await attempt.write("knowledge:insights", share)


async def _settle_knowledge(
    attempt: Attempt, status: KnowledgeStatus, reviewers: list[str]
) -> None:
    """A review's verdict on the knowledge its step's attempt wrote with the tool."""
    if not attempt.shared_knowledge:
        return
    ids = list(attempt.shared_knowledge)
    await attempt.write_session(
        "knowledge:reviewed",
        lambda session: [
            k.id for k in attempt.knowledge(session).settle(ids, status, reviewers=reviewers)
        ],
    )


def _with_sources(
    attempt: Attempt, result: StepResult, knowledge: list[CollaborationKnowledge]
) -> StepResult:
    """The result with its "Sources" section: what the tools noted, the reviewer feedback the
    attempt reworks, and the team knowledge from the prompt the deliverable cites by ID."""
    sources = list(attempt.sources)
    if attempt.ctx.feedback:
        sources.append(Source("review", "", f"Reviewer feedback addressed: {attempt.ctx.feedback}"))
    names = {a.id: a.name for a in attempt.team.values()}
    for entry in knowledge:
        if entry.id in result.output or entry.id in result.summary:
            author = names.get(entry.created_by_agent_id, "a teammate")
            sources.append(
                Source("knowledge", entry.id, f"'{entry.title}' by {author} ({entry.status})")
            )
    section = render_sources(sources)
    if not section:
        return result
    return result.model_copy(update={"output": f"{result.output.rstrip()}\n\n{section}"})


def _retrieve(attempt: Attempt, session: Session) -> list[dict[str, Any]]:
    """The step's top knowledge entries; each handed over counts one use."""
    found = attempt.knowledge(session).use(
        knowledge_query(attempt.ctx.step), limit=KNOWLEDGE_PER_STEP
    )
    return [k.to_json_dict() for k in found]


def _streaming(stream_text: bool | None) -> bool:
    if stream_text is not None:
        return stream_text
    setting = os.environ.get(STREAM_TEXT_ENV, "on").strip().lower()
    if setting in ("on", "1", "true", "yes"):
        return True
    if setting in ("off", "0", "false", "no"):
        return False
    raise AccordError(
        f"{STREAM_TEXT_ENV}={setting!r} is not understood: set it to on or off "
        "(whether what agents write is streamed live)."
    )


def _agent_name(attempt: Attempt) -> str:
    agent = attempt.team.get(attempt.ctx.agent_id or "")
    return agent.name if agent else "the agent"
