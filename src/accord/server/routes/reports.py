"""An execution's report (`accord executions export` over HTTP): the deliverable, each
step's result, the interactions, the knowledge and the metrics, as JSON, markdown or a zip
holding both and the workspace files."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from accord.server.access import ReadAccess
from accord.server.deps import SessionDep
from accord.server.schemas import ERROR_RESPONSES
from accord.team import (
    ExecutionReport,
    ReportFormat,
    build_report,
    report_markdown,
    report_zip,
    workspace_contents,
)

router = APIRouter(tags=["executions"], responses=ERROR_RESPONSES)

_MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON (`format=json`), markdown (`md`) or a zip (`zip`)",
        "content": {
            "application/json": {},
            "text/markdown": {"schema": {"type": "string"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get("/executions/{execution_id}/report", response_model=ExecutionReport, responses=_MEDIA)
def get_report(
    execution_id: str,
    access: ReadAccess,
    session: SessionDep,
    format: Annotated[ReportFormat, Query()] = "json",
) -> Any:
    """The execution's report; `md` and `zip` come as downloads named after it."""
    report = build_report(session, execution_id, user_id=access.owner_id)
    if format == "json":
        return report
    name = f"accord-execution-{report.execution_id[:8]}"
    if format == "md":
        return Response(
            report_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.md"'},
        )
    return Response(
        report_zip(report, workspace_contents(session, report)),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
