"""The collaboration tools an agent can call during a step.

Each call is recorded as an `agent_interactions` row (with its `interaction.*` event) in a
durable write, so a replayed attempt does not record it twice. Tools are sequential
barriers: pydantic-ai runs them one at a time, in the order the model asked for them.
A bad argument (an unknown teammate) goes back to the model as a retry message that says
what to do instead; a delegation the engine refuses (too deep, too many) comes back as the
sub-task's failure.
"""

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field
from pydantic_ai import ModelRetry, Tool
from pydantic_ai.exceptions import AgentRunError

from accord.domain.agent import Agent
from accord.domain.enums import InteractionType, KnowledgeType, QuestionStatus
from accord.domain.errors import AccordError, ModelFailure
from accord.team.attempt import Attempt
from accord.team.briefing import own_context
from accord.team.prompts import answer_prompt
from accord.team.records import TeamRecords
from accord.team.sources import Source

USER = "user"
"""The name an agent uses to ask the user rather than a teammate."""


class UnansweredQuestion(AccordError):
    """A question went unanswered past its deadline in a workflow that requires answers."""

    code = "unanswered_question"


class Answer(BaseModel):
    """A teammate's answer to a question."""

    answer: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)


def collaboration_tools(attempt: Attempt, *, poll_seconds: float = 0.5) -> list[Tool[None]]:
    tools = CollaborationTools(attempt, poll_seconds=poll_seconds)
    # Tools of different signatures: pydantic-ai reads each one's parameters itself.
    chosen: list[Callable[..., Awaitable[Any]]] = [
        tools.ask_question,
        tools.delegate_task,
        tools.give_feedback,
    ]
    if attempt.coordination.knowledge_sharing:
        chosen = [tools.share_knowledge, tools.search_knowledge, tools.validate_knowledge, *chosen]
    return [_tool(fn) for fn in chosen]


_SCHEMAS: dict[str, Any] = {}
"""Each collaboration tool's function schema, by name: the same for every attempt."""


def _tool(method: Callable[..., Awaitable[Any]]) -> Tool[None]:
    """The tool calling one attempt's `method`. pydantic-ai builds a tool's schema from its
    signature (several ms each, six tools every step): built once, then handed over."""
    schema = _SCHEMAS.get(method.__name__)
    if schema is None:
        schema = _SCHEMAS[method.__name__] = Tool(method).function_schema
    return Tool(
        method, sequential=True, function_schema=dataclasses.replace(schema, function=method)
    )


class CollaborationTools:
    def __init__(self, attempt: Attempt, *, poll_seconds: float) -> None:
        self.attempt = attempt
        self.poll_seconds = poll_seconds

    @property
    def me(self) -> Agent:
        return self.attempt.agent

    def _teammate(self, to: str) -> Agent:
        mate = self.attempt.find_teammate(to)
        if mate is None or mate.id == self.me.id:
            names = ", ".join(a.name for a in self.attempt.team.values() if a.id != self.me.id)
            raise ModelRetry(
                f"{to!r} is not one of your teammates; choose one of: "
                f"{names or 'nobody (you work alone)'}."
            )
        return mate

    def _interaction(
        self, records: TeamRecords, kind: InteractionType, message: str, **more: Any
    ) -> dict[str, Any]:
        """An interaction from the agent doing the step (see `Attempt.add_interaction`)."""
        return self.attempt.add_interaction(
            records, sender=self.me, kind=kind, message=message, **more
        )

    async def share_knowledge(
        self,
        title: str,
        content: str,
        knowledge_type: KnowledgeType = KnowledgeType.INSIGHT,
        tags: list[str] | None = None,
        subject: str | None = None,
    ) -> str:
        """Share something the whole team should know in later steps and later runs.

        Args:
            title: a short title.
            content: the knowledge itself.
            knowledge_type: insight, decision, resource, constraint or best_practice.
            tags: a few keywords.
            subject: what it is about; a newer entry on the same subject replaces the older.
        """
        ctx = self.attempt.ctx

        def share(records: TeamRecords) -> dict[str, Any]:
            kb = self.attempt.knowledge(records.session)
            known = kb.already_known(title=title, content=content, subject=subject)
            if known is not None:
                return {"id": known.id, "known": True}
            entry = kb.share(
                agent_id=self.me.id,
                title=title,
                content=content,
                knowledge_type=knowledge_type,
                tags=tags or [],
                subject=subject,
                step_id=ctx.step.id,
            )
            self._interaction(
                records,
                InteractionType.KNOWLEDGE_SHARING,
                f"Shared knowledge: {title}",
                context={
                    "knowledgeId": entry.id,
                    "title": title,
                    "knowledgeType": knowledge_type.value,
                },
            )
            return {"id": entry.id}

        shared = await self.attempt.write("tool:share_knowledge", share)
        if shared.get("known"):
            return f"The team already knows this (knowledge {shared['id']}); nothing added."
        self.attempt.shared_knowledge.append(shared["id"])
        return f"Shared with the team as knowledge {shared['id']}."

    async def search_knowledge(self, query: str) -> list[dict[str, Any]]:
        """Search the team's knowledge (this workflow, all its runs); best matches first.

        Args:
            query: keywords.
        """

        team = self.attempt.team

        def search(records: TeamRecords) -> list[dict[str, Any]]:
            found = self.attempt.knowledge(records.session).use(query, limit=5)
            theirs = [k for k in found if k.created_by_agent_id != self.me.id]
            if theirs:
                self._record_use(records, "search", theirs)
            return [
                {
                    "id": k.id,
                    "title": k.title,
                    "content": k.content,
                    "type": k.knowledge_type.value,
                    "status": k.status.value,
                    "author": team[k.created_by_agent_id].name
                    if k.created_by_agent_id in team
                    else "an earlier teammate",
                    "validatedBy": len(k.validated_by_agents),
                }
                for k in found
            ]

        found = await self.attempt.write("tool:search_knowledge", search)
        for k in found:
            if k["author"] != self.me.name:
                self.attempt.sources.append(
                    Source("knowledge", k["id"], f"'{k['title']}' by {k['author']} ({k['status']})")
                )
        return found

    def _record_use(self, records: TeamRecords, use: str, entries: list[Any]) -> None:
        """Record that the agent used teammates' knowledge (found or validated it): the
        collaboration a knowledge base exists for."""
        authors = {k.created_by_agent_id for k in entries}
        to = self.attempt.team.get(authors.pop()) if len(authors) == 1 else None
        titles = ", ".join(f"'{k.title}'" for k in entries)
        verb = "validated" if use == "validate" else "used"
        self._interaction(
            records,
            InteractionType.KNOWLEDGE_SHARING,
            f"{self.me.name} {verb} {to.name + chr(39) + 's' if to else 'the team' + chr(39) + 's'}"
            f" knowledge: {titles}",
            to=to,
            context={"use": use, "entryIds": [k.id for k in entries]},
        )

    async def validate_knowledge(self, knowledge_id: str) -> str:
        """Confirm a teammate's knowledge entry that you have checked and found right.

        Args:
            knowledge_id: the entry's ID (shown in brackets in the team knowledge).
        """

        def validate(records: TeamRecords) -> dict[str, str]:
            try:
                entry = self.attempt.knowledge(records.session).validate(
                    knowledge_id, agent_id=self.me.id
                )
            except AccordError as exc:
                return {"message": f"Not validated: {exc.message}."}
            self._record_use(records, "validate", [entry])
            return {"message": f"Validated knowledge {knowledge_id}.", "title": entry.title}

        done = await self.attempt.write("tool:validate_knowledge", validate)
        if "title" in done:
            self.attempt.sources.append(
                Source("knowledge", knowledge_id, f"'{done['title']}' (validated by me)")
            )
        return done["message"]

    async def ask_question(self, to: str, question: str, requires_response: bool = True) -> str:
        """Ask a teammate (by name) or the user (`user`) a question.

        Args:
            to: a teammate's name, or `user`.
            question: the question.
            requires_response: whether you wait for the answer.
        """
        deadline = time.time() + self.attempt.coordination.question_deadline_minutes * 60
        mate = None if to.strip().lower() == USER else self._teammate(to)
        asked = await self.attempt.write(
            "tool:ask_question",
            lambda records: self._interaction(
                records,
                InteractionType.QUESTION,
                question,
                to=mate,
                to_user=mate is None,
                requires_response=requires_response,
                deadline=deadline if requires_response else None,
                context={"to": "user" if mate is None else mate.name},
            ),
        )
        who = "the user" if mate is None else mate.name
        if not requires_response:
            self.attempt.sources.append(
                Source("question", asked["id"], f"Question to {who}: {question}")
            )
            return "Question sent; no answer awaited."
        if mate is None:
            answer = await self._wait_for_user(asked["id"], deadline)
        else:
            answer = await self._teammate_answers(asked["id"], mate, question, deadline)
        self.attempt.sources.append(
            Source(
                "question",
                asked["id"],
                f"Question to {who}: {question} Answer: "
                + (answer.partition(": ")[2] if answer else "none before the deadline"),
            )
        )
        if answer is not None:
            return answer
        if self.attempt.coordination.fail_on_unanswered_question:
            raise UnansweredQuestion(
                f"{self.me.name}'s question to {to} was not answered within "
                f"{self.attempt.coordination.question_deadline_minutes:g} minutes, and this "
                "workflow fails a step on unanswered questions "
                "(coordination.failOnUnansweredQuestion)."
            )
        return f"No answer from {to} before the deadline; go on without it."

    async def _teammate_answers(
        self, question_id: str, mate: Agent, question: str, deadline: float
    ) -> str | None:
        ctx = self.attempt.ctx
        own = await self.attempt.write_session(
            "tool:answer_context", lambda session: own_context(self.attempt, session, mate.id)
        )
        try:
            reply = await self.attempt.run_model(
                mate,
                output_type=Answer,
                deadline=deadline,
                instructions=self.attempt.instructions_for(mate),
                prompt=answer_prompt(
                    asker=self.me.name, step_name=ctx.step.name, question=question, own=own
                ),
            )
        except (TimeoutError, AgentRunError, ModelFailure):
            await self.attempt.write(
                "tool:question_expired", lambda records: records.expire(question_id).to_json_dict()
            )
            return None
        await self.attempt.write(
            "tool:question_answered",
            lambda records: records.answer(
                question_id, user_id=ctx.user_id, message=reply.answer, data=reply.data
            ).to_json_dict(),
        )
        return f"{mate.name} answers: {reply.answer}"

    async def _wait_for_user(self, question_id: str, deadline: float) -> str | None:
        """Poll the question's row until the user answers through the API or time is up."""
        db = self.attempt.db

        def check() -> dict[str, Any] | None:
            """The question once answered or expired; None while it is still open."""
            with db.session() as session:
                records = TeamRecords(session)
                row = records.interactions.get(question_id)
                if row.response_status is not QuestionStatus.PENDING:
                    return row.to_json_dict()
                if time.time() >= deadline:
                    return records.expire(question_id).to_json_dict()
                return None

        async def wait() -> dict[str, Any]:
            while (settled := await asyncio.to_thread(check)) is None:
                await asyncio.sleep(min(self.poll_seconds, max(0.0, deadline - time.time())))
            return settled

        final = await self.attempt.ctx.durable.call("tool:wait_for_user", wait)
        if final.get("responseStatus") == QuestionStatus.ANSWERED.value:
            return f"The user answers: {final.get('responseMessage')}"
        return None

    async def delegate_task(
        self, to: str, title: str, instructions: str, expected_output: str
    ) -> str:
        """Hand a self-contained sub-task to a teammate; it runs as its own small execution
        and you get its result back (the engine bounds how deep and how many).

        Args:
            to: the teammate's name.
            title: the sub-task's name.
            instructions: what to do.
            expected_output: what to hand back.
        """
        ctx = self.attempt.ctx
        mate = self._teammate(to)

        async def record_delegation(child_id: str | None) -> dict[str, Any]:
            return await self.attempt.write(
                "tool:delegate_task",
                lambda records: self._interaction(
                    records,
                    InteractionType.TASK_DELEGATION,
                    f"Delegated sub-task: {title}",
                    to=mate,
                    requires_response=True,
                    related_task_id=child_id,
                    context={
                        "title": title,
                        "instructions": instructions,
                        "expectedOutput": expected_output,
                    },
                ),
            )

        recorded: list[dict[str, Any]] = []

        async def started(child_id: str) -> None:
            # Recorded once the sub-task exists and before it runs, so the delegation names
            # the child execution (relatedTaskId) while the teammate works on it.
            recorded.append(await record_delegation(child_id))

        child = await ctx.children.delegate(
            agent_id=mate.id,
            title=title,
            instructions=instructions,
            expected_output=expected_output,
            on_started=started,
        )
        # A sub-task that could not start (depth or fan-out limits) is still a delegation the
        # agent made, answered with why it failed.
        record = recorded[0] if recorded else await record_delegation(None)
        summary = _child_summary(child.final_output) if child.status == "completed" else child.error
        self.attempt.sources.append(
            Source(
                "delegation",
                record["id"],
                f"Sub-task '{title}' delegated to {mate.name}: {child.status}",
            )
        )
        delivered = child.deliverable or child.final_output
        await self.attempt.write(
            "tool:delegation_answered",
            lambda records: records.answer(
                record["id"],
                user_id=ctx.user_id,
                message=f"{child.status}: {summary}"[:2000],
                data={
                    "executionId": child.execution_id,
                    "status": child.status,
                    "finalOutput": child.final_output,
                },
            ).to_json_dict(),
        )
        if child.status != "completed":
            return f"{mate.name}'s sub-task {child.status}: {child.error}"
        return f"{mate.name} delivered: {delivered}"

    async def give_feedback(self, to: str, message: str) -> str:
        """Give a teammate (by name) feedback on their work; `team` addresses everyone.

        Args:
            to: a teammate's name, or `team`.
            message: the feedback.
        """
        mate = None if to.strip().lower() == "team" else self._teammate(to)
        given = await self.attempt.write(
            "tool:give_feedback",
            lambda records: self._interaction(records, InteractionType.FEEDBACK, message, to=mate),
        )
        who = mate.name if mate else "the team"
        self.attempt.sources.append(
            Source("feedback", given["id"], f"Feedback to {who}: {message}")
        )
        return "Feedback recorded."


def _child_summary(final_output: Any) -> str:
    """What a delegated sub-task delivered, in a line: its steps' summaries."""
    if isinstance(final_output, dict):
        summaries = [
            str(result["summary"])
            for result in final_output.values()
            if isinstance(result, dict) and result.get("summary")
        ]
        if summaries:
            return "; ".join(summaries)
    return str(final_output)
