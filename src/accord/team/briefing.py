"""What teammates know, read from the record: their finished results in this execution and the
knowledge they wrote. It feeds the coordinator's brief of each step (who found what, what
is still open) and the context a teammate answers a question from (its own work, nothing
else). Read once per attempt as a durable call, so a replay sees what the first run saw.
"""

from typing import Any

from sqlalchemy.orm import Session

from accord.domain.enums import StepRunStatus
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.team.attempt import Attempt

KNOWLEDGE_PER_MATE = 4
OUTPUT_EXCERPT = 1500


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def finished_results(attempt: Attempt, session: Session) -> list[dict[str, Any]]:
    """The completed steps of this execution (each step's last completed attempt), in order:
    `{stepId, stepName, agentId, summary, output, openPoints}`."""
    plan = attempt.ctx.plan
    latest: dict[str, dict[str, Any]] = {}
    for run in StepRunRepository(session).list(attempt.ctx.execution_id):
        if run.status is not StepRunStatus.COMPLETED or run.step_id == attempt.ctx.step.id:
            continue
        output = run.output or {}
        step = plan.by_id.get(run.step_id)
        latest[run.step_id] = {
            "stepId": run.step_id,
            "stepName": step.step.name if step else run.step_id,
            "agentId": run.agent_id,
            "summary": str(output.get("summary", "")),
            "output": _clip(str(output.get("output", "")), OUTPUT_EXCERPT),
            "openPoints": [str(q) for q in output.get("questions", [])][:5],
        }
    return list(latest.values())


def team_context(attempt: Attempt, session: Session) -> dict[str, Any]:
    """Per teammate (everyone but the agent doing the step): role, skills, finished results
    and the active knowledge they wrote, newest first."""
    results = finished_results(attempt, session)
    entries = KnowledgeRepository(session).list_for_workflow(attempt.ctx.workflow_id)
    me = attempt.ctx.agent_id
    mates = []
    for agent in attempt.team.values():
        if agent.id == me:
            continue
        mates.append(
            {
                "id": agent.id,
                "name": agent.name,
                "role": agent.role,
                "skills": list(agent.skills),
                "results": [
                    {k: r[k] for k in ("stepId", "stepName", "summary", "openPoints")}
                    for r in results
                    if r["agentId"] == agent.id
                ],
                "knowledge": [
                    {
                        "id": k.id,
                        "title": k.title,
                        "type": k.knowledge_type.value,
                        "status": k.status.value,
                    }
                    for k in entries
                    if k.created_by_agent_id == agent.id
                ][:KNOWLEDGE_PER_MATE],
            }
        )
    by_id = {a.id: a.name for a in attempt.team.values()}
    return {
        "mates": mates,
        "authors": {r["stepId"]: by_id.get(r["agentId"] or "", "") for r in results},
        "found": [
            {k: r[k] for k in ("stepId", "stepName", "summary", "openPoints")}
            | {"agent": by_id.get(r["agentId"] or "", "a nested team")}
            for r in results
        ],
    }


def own_context(attempt: Attempt, session: Session, agent_id: str) -> dict[str, Any]:
    """What one agent has to answer from: its finished results in this execution and the
    active knowledge it wrote."""
    results = [r for r in finished_results(attempt, session) if r["agentId"] == agent_id]
    entries = [
        {"id": k.id, "title": k.title, "content": k.content, "type": k.knowledge_type.value}
        for k in KnowledgeRepository(session).list_for_workflow(attempt.ctx.workflow_id)
        if k.created_by_agent_id == agent_id
    ][:KNOWLEDGE_PER_MATE]
    return {"results": results, "knowledge": entries}
