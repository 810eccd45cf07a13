"""The browser's MCP servers page (secrets write-only) and an execution's Files tab, against
a real `accord serve` in headless Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import ROOT

pytestmark = pytest.mark.e2e


def test_mcp_servers_keep_their_secrets_in_the_browser(page: Page, shot) -> None:
    page.goto("/mcp-servers")
    page.get_by_role("button", name="Add an MCP server").click()
    page.get_by_label("Name").fill("files")
    page.get_by_label("Command").fill("npx")
    page.get_by_label("Arguments (one per line)").fill(
        "-y\n@modelcontextprotocol/server-filesystem\n${WORKSPACE}"
    )
    page.get_by_label(re.compile("Environment")).fill("TOKEN=e2e-never-shown")
    page.get_by_role("button", name="Create MCP server").click()
    row = page.get_by_role("row", name=re.compile("files"))
    expect(row).to_contain_text("npx -y @modelcontextprotocol/server-filesystem ${WORKSPACE}")
    expect(row).to_contain_text("TOKEN")
    assert "e2e-never-shown" not in page.content()
    assert "e2e-never-shown" not in page.request.get("/api/v1/mcp-servers").text()
    row.get_by_role("button", name="Edit").click()
    expect(page.get_by_label(re.compile("Environment"))).to_have_value("")
    expect(page.get_by_label(re.compile("Environment"))).to_have_attribute(
        "placeholder", re.compile("Saved: TOKEN")
    )
    shot(page, "mcp-servers")
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_the_files_tab_lists_and_downloads_the_workspace(page: Page, tmp_path: Path, shot) -> None:
    folder = tmp_path / "out"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "report.md").write_text("# The report\n")
    api = page.request
    agent = api.post("/api/v1/agents", data={"name": "Wren", "role": "writer"}).json()
    workflow = api.post(
        "/api/v1/workflows",
        data={
            "name": "Writes files",
            "description": "",
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": [{"id": "write", "name": "Write"}]},
        },
    ).json()
    started = api.post(
        f"/api/v1/workflows/{workflow['id']}/executions", data={"workspace": str(folder)}
    )
    assert started.status == 201, started.text()
    execution = started.json()

    page.goto(f"/workflows/{workflow['id']}/executions/{execution['id']}")
    page.get_by_role("tab", name=re.compile("Files")).click()
    table = page.get_by_role("table", name="Workspace files")
    link = table.get_by_role("link", name="docs/report.md")
    expect(link).to_be_visible()
    expect(table).to_contain_text("unknown")  # not written through the toolkit
    assert api.get(link.get_attribute("href") or "").text() == "# The report\n"
    archive = page.get_by_role("link", name="Download all (.zip)")
    assert api.get(archive.get_attribute("href") or "").body()[:2] == b"PK"
    shot(page, "files-tab", full_page=True)
    assert page.page_errors == []  # type: ignore[attr-defined]


FILESYSTEM = ROOT / "tools/mcp-servers/node_modules/@modelcontextprotocol/server-filesystem"


def test_a_tool_call_waits_for_approval_then_shows_in_the_timeline_and_files(page: Page) -> None:
    """The reference filesystem MCP server, its write_file marked requireApproval: the call
    waits in the step inspector, runs once approved, and shows in the timeline, the inspector
    and the file browser (with a preview of what it wrote)."""
    api = page.request
    provider = api.post(
        "/api/v1/providers",
        data={"name": "Offline tools", "kind": "offline", "defaultModel": "accord-offline"},
    ).json()
    agent = api.post(
        "/api/v1/agents",
        data={
            "name": "Theo",
            "role": "technical writer",
            "tools": ["files.write_file"],
            "llmProviderId": provider["id"],
        },
    ).json()
    server = {
        "command": "node",
        "args": [str(FILESYSTEM / "dist" / "index.js"), "${WORKSPACE}"],
        "requireApproval": ["write_file"],
    }
    step = {
        "id": "report",
        "name": "Write the report",
        "instructions": "Write the report into the workspace folder as a Markdown file.",
    }
    workflow = api.post(
        "/api/v1/workflows",
        data={
            "name": "Approved writes",
            "description": "",
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": [step], "mcpServers": {"files": server}},
        },
    )
    assert workflow.status == 201, workflow.text()
    workflow_id = workflow.json()["id"]
    execution = api.post(f"/api/v1/workflows/{workflow_id}/executions", data={}).json()

    page.goto(f"/workflows/{workflow_id}/executions/{execution['id']}")
    page.get_by_test_id("step-node-report").click()
    inspector = page.get_by_test_id("step-inspector")
    waiting = inspector.get_by_role("region", name="Approval for Theo")
    expect(waiting).to_contain_text("files.write_file", timeout=60_000)
    expect(waiting).to_contain_text("in Write the report")
    waiting.get_by_role("button", name="Approve").click()

    expect(page.get_by_test_id("deliverable")).to_be_visible(timeout=60_000)
    call = inspector.get_by_test_id("tool-call")
    expect(call).to_contain_text("files.write_file")
    expect(call).to_contain_text("Theo")

    page.get_by_role("tab", name="Timeline").click()
    calls = page.get_by_role("table", name="Tool calls of this run")
    expect(calls.get_by_test_id("tool-call-row")).to_have_count(1)
    expect(calls).to_contain_text("files.write_file")
    expect(calls.get_by_role("button", name="Write the report")).to_be_visible()

    page.get_by_role("tab", name=re.compile("Files")).click()
    files = page.get_by_role("table", name="Workspace files")
    written = files.get_by_role("button", name=re.compile(r"\.md$"))
    written.click()
    expect(page.get_by_test_id("file-preview")).to_contain_text("offline model")
    assert page.page_errors == []  # type: ignore[attr-defined]
