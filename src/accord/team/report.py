"""An execution's report: the deliverable, each step's result, the interactions, the
knowledge and the metrics, as JSON, markdown or a zip of both (with the workspace files).

`accord executions export` and `GET /executions/{id}/report` serve the same report. Child
executions (sub-workflows, delegated sub-tasks) belong to their parent's report: their
interactions and knowledge are counted in, and each is listed with its own deliverable.
"""

import io
import json
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import Field
from sqlalchemy.orm import Session

from accord.domain.base import CamelModel
from accord.domain.deliverable import Deliverable
from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.domain.execution import StepRun, Usage, WorkflowExecution
from accord.domain.interaction import AgentInteraction
from accord.domain.knowledge import CollaborationKnowledge
from accord.domain.metrics import CollaborationMetrics
from accord.domain.workspace import WorkspaceFile
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.interactions import InteractionRepository
from accord.storage.repositories.knowledge import KnowledgeRepository
from accord.storage.repositories.step_runs import StepRunRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team.metrics import execution_metrics
from accord.tools.workspace_folder import list_files, locate_workspace

ReportFormat = Literal["md", "json", "zip"]


class StepReport(CamelModel):
    """A step's outcome: its latest attempt, with the result it handed on."""

    step_id: str
    name: str
    status: StepRunStatus | Literal["pending"]
    agent_id: str | None = None
    agent_name: str | None = None
    attempts: int = 0
    """Attempts that started (a step skipped or cancelled before it started has none)."""
    summary: str | None = None
    output: str | None = None
    """The step's deliverable text (markdown)."""
    error: str | None = None
    """Why it failed, was skipped or was cancelled."""
    result: dict[str, object] | None = None
    """The whole result (StepResult JSON) of a completed step."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens and cost of all its attempts."""


class ChildReport(CamelModel):
    execution_id: str
    workflow_id: str
    parent_execution_id: str | None
    parent_step_id: str | None
    status: ExecutionStatus
    error: str | None = None
    deliverable: Deliverable | None = None


class ExecutionReport(CamelModel):
    execution_id: str
    workflow_id: str
    workflow_name: str
    execution_number: int
    status: ExecutionStatus
    error: str | None = None
    started_at: datetime
    completed_at: datetime | None = None
    duration_s: int | None = None
    estimated_duration_s: int | None = None
    deliverable: Deliverable | None = None
    steps: list[StepReport] = Field(default_factory=list)
    interactions: list[AgentInteraction] = Field(default_factory=list)
    knowledge: list[CollaborationKnowledge] = Field(default_factory=list)
    metrics: CollaborationMetrics
    usage: Usage
    """The execution's and its children's."""
    child_executions: list[ChildReport] = Field(default_factory=list)
    agent_names: dict[str, str] = Field(default_factory=dict)
    """Agent ID -> name, for every agent the report mentions."""
    files: list[WorkspaceFile] = Field(default_factory=list)
    """The workspace's files (the zip holds them under `files/`)."""


def build_report(session: Session, execution_id: str, *, user_id: str) -> ExecutionReport:
    """The report of one of the user's executions (NotFound for anyone else's)."""
    executions = ExecutionRepository(session)
    execution = executions.get(execution_id, user_id=user_id)
    family = [execution]
    for member in family:
        family.extend(executions.children(member.id))
    ids = {e.id for e in family}
    workflow = WorkflowRepository(session).get(execution.workflow_id, user_id=user_id)
    names = {a.id: a.name for a in AgentRepository(session).list(user_id=user_id)}
    interactions = InteractionRepository(session).list_for_executions(e.id for e in family)
    knowledge = [
        k
        for workflow_id in dict.fromkeys(e.workflow_id for e in family)
        for k in KnowledgeRepository(session).list_for_workflow(workflow_id, include_inactive=True)
        if k.execution_id in ids
    ]
    usage = execution.usage
    for child in family[1:]:
        usage = usage + child.usage
    return ExecutionReport(
        execution_id=execution.id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        execution_number=execution.execution_number,
        status=execution.status,
        error=execution.error_message,
        started_at=execution.started_at,
        completed_at=execution.completed_at,
        duration_s=execution.actual_duration,
        estimated_duration_s=execution.estimated_duration,
        deliverable=execution.deliverable,
        steps=_steps(execution, StepRunRepository(session).list(execution.id), names),
        interactions=interactions,
        knowledge=sorted(knowledge, key=lambda k: (k.created_at, k.title)),
        metrics=execution_metrics(session, execution.id, user_id=user_id),
        usage=usage,
        child_executions=[
            ChildReport(
                execution_id=c.id,
                workflow_id=c.workflow_id,
                parent_execution_id=c.parent_execution_id,
                parent_step_id=c.parent_step_id,
                status=c.status,
                error=c.error_message,
                deliverable=c.deliverable,
            )
            for c in family[1:]
        ],
        agent_names=names,
        files=list_files(session, execution.id),
    )


def _steps(
    execution: WorkflowExecution, runs: list[StepRun], names: dict[str, str]
) -> list[StepReport]:
    by_step: dict[str, list[StepRun]] = {}
    for run in runs:
        by_step.setdefault(run.step_id, []).append(run)
    defined = (execution.definition.get("configuration") or {}).get("steps") or []
    titles = {s["id"]: s.get("name") or s["id"] for s in defined}
    order = list(titles) + sorted(set(by_step) - set(titles))
    steps = []
    for step_id in order:
        attempts = sorted(by_step.get(step_id, []), key=lambda r: r.attempt)
        if not attempts:
            steps.append(StepReport(step_id=step_id, name=titles[step_id], status="pending"))
            continue
        last = attempts[-1]
        usage = Usage()
        for run in attempts:
            usage = usage + Usage(
                input_tokens=run.input_tokens,
                output_tokens=run.output_tokens,
                cost_usd=run.cost_usd,
                model_calls=run.model_calls,
            )
        result = last.output if last.status is StepRunStatus.COMPLETED else None
        output = (result or {}).get("output")
        summary = (result or {}).get("summary")
        steps.append(
            StepReport(
                step_id=step_id,
                name=titles.get(step_id, step_id),
                status=last.status,
                agent_id=last.agent_id,
                agent_name=names.get(last.agent_id or ""),
                attempts=sum(1 for r in attempts if r.started_at is not None),
                summary=summary if isinstance(summary, str) else None,
                output=output if isinstance(output, str) else _json(output),
                error=last.error,
                result=result,
                usage=usage,
            )
        )
    return steps


def _json(value: object) -> str | None:
    if value is None:
        return None
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n```"


# --- renderings ------------------------------------------------------------------------------


def report_json(report: ExecutionReport) -> str:
    return json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


def report_markdown(report: ExecutionReport) -> str:
    """The report as a markdown document a person reads top to bottom: the deliverable
    first, then how the team got there."""

    def name(agent_id: str | None) -> str:
        return _agent(report, agent_id)

    out: list[str] = [f"# {report.workflow_name}: execution #{report.execution_number}", ""]
    facts = [f"**Status:** {report.status.value}"]
    if report.duration_s is not None:
        estimate = (
            f" (estimated {report.estimated_duration_s} s)"
            if report.estimated_duration_s is not None
            else ""
        )
        facts.append(f"**Took:** {report.duration_s} s{estimate}")
    u = report.usage
    facts.append(
        f"**Tokens:** {u.total_tokens:,} ({u.input_tokens:,} in, {u.output_tokens:,} out) "
        f"in {u.model_calls} model calls, ${u.cost_usd:.4f}"
    )
    out += [" · ".join(facts), ""]
    if report.error:
        out += [f"> **Error:** {_one_line(report.error)}", ""]

    out += ["## Deliverable", ""]
    if report.deliverable is not None:
        out += [_nested(report.deliverable.markdown, 2), ""]
    else:
        out += ["_No deliverable: the execution did not complete._", ""]
    if report.files:
        out += ["Files of the workspace (in the zip export, under `files/`):", ""]
        out += [
            f"- `{f.path}` ({f.size:,} bytes" + (f", by {f.agent_name})" if f.agent_name else ")")
            for f in report.files
        ] + [""]

    out += ["## Steps", ""]
    for step in report.steps:
        by = f" by {step.agent_name}" if step.agent_name else ""
        tries = f", {step.attempts} attempts" if step.attempts > 1 else ""
        out += [f"### {step.name} (`{step.step_id}`): {step.status}{by}{tries}", ""]
        if step.summary:
            out += [f"_{_one_line(step.summary)}_", ""]
        if step.output and step.status == StepRunStatus.COMPLETED:
            out += [_nested(step.output, 3), ""]
        if step.error:
            out += [f"> {_one_line(step.error)}", ""]

    if report.child_executions:
        out += ["## Child executions", ""]
        for child in report.child_executions:
            out += [
                f"- `{child.execution_id}` for step `{child.parent_step_id}`: "
                f"{child.status.value}" + (f" ({_one_line(child.error)})" if child.error else "")
            ]
        out.append("")

    out += ["## Interactions", ""]
    if not report.interactions:
        out += ["_None._", ""]
    for i in report.interactions:
        to = f" → {name(i.to_agent_id)}" if i.to_agent_id else (" → you" if i.to_user_id else "")
        where = f" (step `{i.related_step_id}`)" if i.related_step_id else ""
        kind = i.interaction_type.value.replace("_", " ")
        out.append(f"- **{kind}**, {name(i.from_agent_id)}{to}{where}: {_one_line(i.message)}")
        if i.response_message:
            out.append(f"  - answer: {_one_line(i.response_message)}")
        elif i.response_status is not None and i.response_status.value != "answered":
            out.append(f"  - {i.response_status.value}, no answer")
    out.append("")

    out += ["## Knowledge", ""]
    if not report.knowledge:
        out += ["_None._", ""]
    for k in report.knowledge:
        state = "" if k.is_active else ", superseded"
        checked = f", validated by {len(k.validated_by_agents)}" if k.validated_by_agents else ""
        out.append(
            f"- **{_one_line(k.title)}** ({k.knowledge_type.value}, by "
            f"{name(k.created_by_agent_id)}{checked}{state}): {_one_line(k.content)}"
        )
    out.append("")

    m = report.metrics
    out += [
        "## Metrics",
        "",
        f"- collaboration {m.collaboration_score:.1f}, efficiency {m.efficiency_rating:.1f}, "
        f"quality {m.quality_score:.1f} (of 10)",
        f"- {m.total_interactions} interactions, {m.knowledge_items_created} knowledge items, "
        f"average response time {m.average_response_time:.2f} min",
        "",
        "| agent | steps | approvals | rejections | tokens | cost |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for a in m.agents:
        out.append(
            f"| {a.agent_name or name(a.agent_id)} | {a.steps} | {a.approvals} | "
            f"{a.rejections} | {a.input_tokens + a.output_tokens:,} | ${a.cost_usd:.4f} |"
        )
    return "\n".join(out).rstrip() + "\n"


def workspace_contents(session: Session, report: ExecutionReport) -> list[tuple[str, bytes]]:
    """The report's workspace files with their contents, for `report_zip`."""
    workspace = locate_workspace(session, report.execution_id)
    return [(f.path, workspace.read_bytes(f.path)) for f in report.files]


def report_zip(report: ExecutionReport, files: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """`report.md`, `report.json` and the workspace files under `files/`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.md", report_markdown(report))
        archive.writestr("report.json", report_json(report))
        for path, content in files:
            archive.writestr(f"files/{path.lstrip('/')}", content)
    return buffer.getvalue()


def _agent(report: ExecutionReport, agent_id: str | None) -> str:
    if not agent_id:
        return "-"
    return report.agent_names.get(agent_id, agent_id)


_HEADING = re.compile(r"^(#{1,6})(\s)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _nested(markdown: str, level: int) -> str:
    """Markdown placed under a heading of `level`: its own headings move down so that the
    highest becomes `level + 1` (code blocks untouched), and the document keeps its outline."""
    lines = markdown.strip().splitlines()
    fenced = False
    headings: list[int] = []
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            headings.append(len(m.group(1)))
    shift = level + 1 - min(headings) if headings else 0
    if shift <= 0:
        return "\n".join(lines)
    fenced = False
    nested = []
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            depth = min(6, len(m.group(1)) + shift)
            line = "#" * depth + line[len(m.group(1)) :]
        nested.append(line)
    return "\n".join(nested)


def _one_line(text: str) -> str:
    """Text for one list item or quote line: newlines folded, so it cannot break the list."""
    return " ".join(text.split())
