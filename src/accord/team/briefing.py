"""What teammates know, read from the record: their finished results in this execution and the
knowledge they wrote. It feeds the coordinator's brief of each step (who found what, what
is still open) and the context a teammate answers a question from (its own work, nothing
else). Read once per attempt as a durable call, so a replay sees what the first run saw.
Only the latest results are read and quoted, so that neither the reads nor the prompts grow
with the execution's length (a 500-step run's last steps cost twice its first ones).
"""

from typing import Any

from sqlalchemy.orm import Session

from accord.domain.execution import StepRun
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.attempt import Attempt

KNOWLEDGE_PER_MATE = 4
OUTPUT_EXCERPT = 1500
BRIEF_RESULTS = 8
"""The latest results the coordinator's brief quotes; earlier ones are counted, not quoted:
a long execution's prompts (and the reads behind them) would otherwise grow with every step."""
RESULTS_PER_MATE = 5
"""The latest finished steps named per teammate in "who knows what"."""
OWN_RESULTS = 5
"""The latest results of its own an agent answers a question from."""


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _result(attempt: Attempt, run: StepRun) -> dict[str, Any]:
    output = run.output or {}
    step = attempt.ctx.plan.by_id.get(run.step_id)
    return {
        "stepId": run.step_id,
        "stepName": step.step.name if step else run.step_id,
        "agentId": run.agent_id,
        "summary": str(output.get("summary", "")),
        "output": _clip(str(output.get("output", "")), OUTPUT_EXCERPT),
        "openPoints": [str(q) for q in output.get("questions", [])][:5],
    }


def finished_results(
    attempt: Attempt, session: Session, *, limit: int, agent_id: str | None = None
) -> list[dict[str, Any]]:
    """The latest `limit` completed steps of this execution (only `agent_id`'s when given),
    oldest first: `{stepId, stepName, agentId, summary, output, openPoints}`."""
    runs = StepRunRepository(session).completed_recent(
        attempt.ctx.execution_id, limit=limit, agent_id=agent_id, besides=attempt.ctx.step.id
    )
    return [_result(attempt, run) for run in reversed(runs)]


def team_context(attempt: Attempt, session: Session) -> dict[str, Any]:
    """Per teammate (everyone but the agent doing the step): role, skills, latest finished
    results (and how many in all) and the latest active knowledge they wrote; the latest
    results of the whole team (and how many earlier ones the brief leaves out). Every read is
    bounded, so a step late in a long execution costs what an early one does."""
    ctx = attempt.ctx
    runs = StepRunRepository(session)
    finished = runs.completed_by_agent(ctx.execution_id, besides=ctx.step.id)
    results = finished_results(attempt, session, limit=BRIEF_RESULTS)
    knowledge = KnowledgeRepository(session)
    me = ctx.agent_id
    mates = []
    for agent in attempt.team.values():
        if agent.id == me:
            continue
        recent = finished_results(attempt, session, limit=RESULTS_PER_MATE, agent_id=agent.id)
        entries = knowledge.list_for_workflow(
            ctx.workflow_id, created_by=agent.id, limit=KNOWLEDGE_PER_MATE
        )
        mates.append(
            {
                "id": agent.id,
                "name": agent.name,
                "role": agent.role,
                "skills": list(agent.skills),
                "results": [
                    {k: r[k] for k in ("stepId", "stepName", "summary", "openPoints")}
                    for r in recent
                ],
                "earlierResults": finished.get(agent.id, 0) - len(recent),
                "knowledge": [
                    {
                        "id": k.id,
                        "title": k.title,
                        "type": k.knowledge_type.value,
                        "status": k.status.value,
                    }
                    for k in entries
                ],
            }
        )
    by_id = {a.id: a.name for a in attempt.team.values()}
    return {
        "mates": mates,
        "found": [
            {k: r[k] for k in ("stepId", "stepName", "summary", "openPoints")}
            | {"agent": by_id.get(r["agentId"] or "", "a nested team")}
            for r in results
        ],
        "earlierFound": sum(finished.values()) - len(results),
    }


def own_context(attempt: Attempt, session: Session, agent_id: str) -> dict[str, Any]:
    """What one agent has to answer from: its latest finished results in this execution and
    the latest active knowledge it wrote."""
    results = finished_results(attempt, session, limit=OWN_RESULTS, agent_id=agent_id)
    entries = [
        {"id": k.id, "title": k.title, "content": k.content, "type": k.knowledge_type.value}
        for k in KnowledgeRepository(session).list_for_workflow(
            attempt.ctx.workflow_id, created_by=agent_id, limit=KNOWLEDGE_PER_MATE
        )
    ]
    return {"results": results, "knowledge": entries}
