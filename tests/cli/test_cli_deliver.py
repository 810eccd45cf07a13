"""The deliverable and the report through the real `accord` command, and `accord projects`."""

import json
import zipfile
from pathlib import Path

from accord.domain.workflow import UpdateWorkflowRequest
from accord.storage.db import Database
from accord.storage.repositories.workflows import WorkflowRepository
from tests.cli.conftest import Accord, json_of

MARKUP = "[bold red]not markup[/] and [/closing]"
"""Model text that Rich would take as markup, or crash on, if it were printed as such."""


def test_run_prints_and_writes_the_deliverable_and_export_writes_the_report(
    accord: Accord, tmp_path: Path
) -> None:
    file = tmp_path / "tiny.yaml"
    file.write_text(
        "name: Tiny\nagents:\n  - name: Solo\n    role: developer\n"
        f"steps:\n  - id: only\n    name: Do it\n    instructions: 'Quote {MARKUP}'\n"
    )
    out = tmp_path / "deliverable.md"
    run = accord("run", str(file), "--output", str(out))
    written = out.read_text()
    assert MARKUP in written  # the offline model quotes its instructions
    assert f"Deliverable written to {out}" in run.stdout
    printed = run.stdout[run.stdout.index("Deliverable ─") :]
    assert MARKUP in printed  # rendered as markdown, the brackets shown as written

    execution = json_of(accord("executions", "list", "--json"))[0]
    assert execution["deliverable"]["markdown"] == written
    assert execution["deliverable"]["stepIds"] == ["only"]

    md = accord("executions", "export", execution["id"][:8]).stdout
    assert md.startswith("# Tiny: execution #1")
    for section in ("## Deliverable", "## Steps", "## Interactions", "## Knowledge", "## Metrics"):
        assert section in md
    # The deliverable under the report's heading, its own headings nested one level down.
    deliverable = md[md.index("## Deliverable") : md.index("## Steps")]
    assert "\n### Do it\n" in deliverable and MARKUP in deliverable

    accord("executions", "export", execution["id"], "--format", "json", "-o", "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["deliverable"]["markdown"] == written
    assert [s["stepId"] for s in report["steps"]] == ["only"]
    assert report["steps"][0]["agentName"] == "Solo"

    done = accord("executions", "export", execution["id"], "--format", "zip")
    target = tmp_path / f"accord-execution-{execution['id'][:8]}.zip"
    assert f"Report written to {target.name}" in done.stdout
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["report.json", "report.md"]
        assert archive.read("report.md").decode() == md


def test_a_run_that_fails_writes_no_deliverable(accord: Accord, tmp_path: Path) -> None:
    file = tmp_path / "short.yaml"
    file.write_text(
        "name: Short\nagents:\n  - name: Solo\n    role: developer\n    provider: slow\n"
        "steps:\n  - id: a\n    name: A\n  - id: b\n    name: B\n"
        "constraints: {maxExecutionTime: 1}\n"
    )
    accord(
        "providers", "create", "slow", "--kind", "offline", "--model", "accord-offline",
        "--setting", "latencySeconds=3",
    )  # fmt: skip
    out = tmp_path / "none.md"
    run = accord("run", str(file), "--output", str(out), ok=False)
    assert run.returncode == 1 and not out.exists()
    assert "maxExecutionTime of 1 seconds" in run.stdout
    assert f"No deliverable to write to {out}: the execution failed." in run.stdout
    latest = run.stdout.split("Execution failed (", 1)[1].split(")", 1)[0]
    shown = json_of(accord("executions", "show", latest, "--json"))
    # The step that never started ends skipped, saying why, instead of waiting for ever.
    assert shown["steps"]["b"]["status"] == "skipped" and shown["steps"]["b"]["attempts"] == 0
    runs = {r["stepId"]: r for r in shown["stepRuns"]}
    assert runs["b"]["error"].startswith("not run: the execution failed:")


def test_projects_are_created_listed_shown_and_deleted(
    accord: Accord, data_dir: Path, tmp_path: Path
) -> None:
    created = json_of(accord("projects", "create", "Billing", "--description", "Q3", "--json"))
    assert created["name"] == "Billing"
    file = tmp_path / "invoices.yaml"
    file.write_text(
        "name: Invoices\nagents:\n  - name: Solo\n    role: developer\n"
        "steps:\n  - id: only\n    name: Do it\n"
    )
    filed = json_of(accord("workflows", "create", str(file), "--project", "bill", "--json"))
    assert filed["projectId"] == created["id"]
    listed = json_of(accord("projects", "list", "--json"))
    assert [(p["name"], p["workflows"]) for p in listed] == [("Billing", 1)]
    shown = accord("projects", "show", "Billing").stdout
    assert "Invoices" in shown and "draft" in shown
    refused = accord("projects", "delete", "Billing", ok=False)
    assert refused.returncode != 0
    assert "still holds 1 workflow(s): 'Invoices'" in " ".join(refused.stderr.split())
    # Taken out of the project (as `PATCH /workflows/{id}` with `projectId: null` would).
    database = Database(f"sqlite:///{data_dir / 'accord.db'}")
    try:
        with database.session() as s:
            WorkflowRepository(s).update(
                filed["id"],
                user_id=filed["userId"],
                request=UpdateWorkflowRequest(project_id=None),
            )
    finally:
        database.dispose()
    assert "Deleted project Billing" in accord("projects", "delete", "Billing").stdout
