"""The report's markdown keeps one outline whatever headings the team's outputs carry."""

from datetime import UTC, datetime

from accord.domain.deliverable import Deliverable
from accord.domain.enums import ExecutionStatus, StepRunStatus
from accord.domain.execution import Usage
from accord.domain.metrics import CollaborationMetrics
from accord.team.report import ExecutionReport, StepReport, report_markdown


def test_the_outputs_headings_nest_under_the_reports_own() -> None:
    output = "# Notes\n\n## Risks\n\n```\n# a comment, not a heading\n```\n"
    report = ExecutionReport(
        execution_id="e1",
        workflow_id="w1",
        workflow_name="Docs",
        execution_number=1,
        status=ExecutionStatus.COMPLETED,
        started_at=datetime.now(UTC),
        deliverable=Deliverable(markdown=output, step_ids=["doc"]),
        steps=[
            StepReport(step_id="doc", name="Write", status=StepRunStatus.COMPLETED, output=output)
        ],
        metrics=CollaborationMetrics(),
        usage=Usage(),
    )
    lines = report_markdown(report).splitlines()
    assert lines.count("# a comment, not a heading") == 2  # code blocks stay as written
    headings = [line for line in lines if line.startswith("#") and "comment" not in line]
    assert headings == [
        "# Docs: execution #1",
        "## Deliverable",
        "### Notes",
        "#### Risks",
        "## Steps",
        "### Write (`doc`): completed",
        "#### Notes",
        "##### Risks",
        "## Interactions",
        "## Knowledge",
        "## Metrics",
    ]
