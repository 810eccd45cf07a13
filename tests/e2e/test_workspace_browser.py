"""The browser's MCP servers page (secrets write-only) and an execution's Files tab, against
a real `accord serve` in headless Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

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
